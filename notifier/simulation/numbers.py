"""What the simulated gateway remembers about each number besides its questions: an
in-memory stand-in for the opt-out store (:mod:`notifier.store.optouts`) and for the SMS
webhook's claims (:mod:`notifier.store.inbound_claims`), with the same rules.

- A number is opted out per channel: of texts (ARRET, STOP... until REPRISE, START...)
  or of automated calls (key 9), neither stopping the other. Email is never opted out
  here. A change is told to the booking systems of the locations whose texts or calls
  went to the number within ``delivery_retention`` (as ``send_begin`` remembers them).
- An answer of one kind goes to a number at most ``keyword_reply_limit`` times per UTC
  day; the "we do not reply" notice at most once per ``no_reply_notice_interval``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from notifier.domain import Channel
from notifier.opt_outs import OPT_OUT_CHANNELS
from notifier.settings import Settings


@dataclass
class Numbers:
    """Opt-outs and answer claims, per number (E.164).

    Parameters:
      reply_limit: the answers of one kind a number may have per UTC day.
      notice_interval: how long after the notice the next one may go.
      contact_retention: how long a number remembers the locations that wrote to it.
      opted_out: channel -> the numbers opted out of it now.
      replies: (number, kind of answer, UTC day) -> the answers claimed.
      notices: number -> when the notice last went.
      written: number -> when a text or call last went to it.
    """

    reply_limit: int
    notice_interval: dt.timedelta
    contact_retention: dt.timedelta
    opted_out: dict[Channel, set[str]] = field(
        default_factory=lambda: {channel: set() for channel in OPT_OUT_CHANNELS})
    replies: Counter[tuple[str, str, dt.date]] = field(default_factory=Counter)
    notices: dict[str, dt.datetime] = field(default_factory=dict)
    written: dict[str, dt.datetime] = field(default_factory=dict)

    @classmethod
    def of(cls, settings: Settings) -> Numbers:
        """The memory of a gateway with ``settings``' limits."""
        return cls(reply_limit=settings.keyword_reply_limit,
                   notice_interval=settings.no_reply_notice_interval,
                   contact_retention=settings.delivery_retention)

    def wrote(self, number: str, now: dt.datetime) -> None:
        """A text or a call went to ``number`` at ``now``."""
        self.written[number] = now

    def told(self, number: str, now: dt.datetime) -> bool:
        """Whether a change of ``number``'s state at ``now`` is told to a booking system:
        a location's text or call went to it within the retention."""
        last = self.written.get(number)
        return last is not None and now - last < self.contact_retention

    def is_opted_out(self, number: str, channel: Channel) -> bool:
        """Whether ``number`` must not be contacted on ``channel`` (never so for email)."""
        return number in self.opted_out.get(channel, ())

    def change(self, number: str, channel: Channel, *, opted_out: bool) -> bool:
        """Opt ``number`` out of ``channel`` (or back in); True if its state changed."""
        numbers = self.opted_out[channel]
        if (number in numbers) == opted_out:
            return False
        if opted_out:
            numbers.add(number)
        else:
            numbers.discard(number)
        return True

    def claim_reply(self, number: str, kind: str, now: dt.datetime) -> bool:
        """True if ``number`` may have one more answer of ``kind`` today (UTC), counted:
        a keyword kind (``stop``), or ``response_<reply>`` for an answer to an answer."""
        day = (number, kind, now.astimezone(dt.UTC).date())
        self.replies[day] += 1
        return self.replies[day] <= self.reply_limit

    def claim_notice(self, number: str, now: dt.datetime) -> bool:
        """True if the "we do not reply" notice may go to ``number`` now (and claims it)."""
        last = self.notices.get(number)
        if last is not None and now - last < self.notice_interval:
            return False
        self.notices[number] = now
        return True
