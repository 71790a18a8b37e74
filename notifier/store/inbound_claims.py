"""What the SMS webhook remembers in Redis besides opt-outs: the incoming messages already
processed, when a number last had the "we do not reply" notice, and how many keyword
answers it had today.

Keys (:class:`~notifier.store.keys.Keys`, under ``settings.queue_prefix``):
  ``<prefix>:inbound:seen:sid:<MessageSid>``    a processed message, kept as long as the
                                                opt-out audit (a STOP replayed months
                                                later is still a duplicate)
  ``<prefix>:inbound:seen:token:<token>``       a processed Twilio idempotency token, a day
  ``<prefix>:inbound:notice:<digest>``          when the notice last went
  ``<prefix>:inbound:replies:<digest>:<kind>:<UTC day>``  keyword answers sent that day

A number appears only as a digest: key names show up in operators' tools.

A text's markers are written in the step that does what it asks, never before: the
opt-out change (``optout_change``), the answer to a question (``response_record``), the
text kept for a human (``reply_unmatched``), or, for a text whose answer writes nothing
else, :meth:`InboundClaims.claim` just before it. A failure before that step (Redis gone
half-way) leaves no marker, so Twilio's redelivery is processed rather than taken for a
duplicate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from redis import Redis, RedisError
from redis.client import Pipeline

from notifier.opt_outs import number_digest
from notifier.settings import Settings
from notifier.store.keys import Keys
from notifier.store.redis_store import RedisStore

# Twilio redelivers a webhook within minutes (retries, fallback URL): a day is ample for
# its idempotency token. A MessageSid is kept as long as the audit it may appear in.
TOKEN_DEDUPE_TTL = dt.timedelta(days=1)

# A day's count outlives its (UTC) day, then goes.
_REPLY_COUNT_TTL = int(dt.timedelta(days=2).total_seconds())


@dataclass(frozen=True)
class MessageClaim:
    """What an incoming text claims in the same step as the opt-out change it asks for
    (:meth:`~notifier.store.optouts.OptOutStore.change_for_message`).

    Parameters:
      markers: the keys that mark the text as processed, each with its TTL in seconds: if
        one is there already, the text is a duplicate and nothing is written.
      answer_count: the key counting the sender's answers to the keyword today, or None
        when no answer is to go.
      answer_limit: the answers a day may have.
      answer_count_ttl: how long the count is kept, in seconds.
    """

    markers: Mapping[str, int]
    answer_count: str | None
    answer_limit: int
    answer_count_ttl: int


class InboundClaims(RedisStore):
    """Claims on incoming messages, on the notice and on keyword answers.

    Parameters:
      redis: a redis-py client.
      settings: key prefix, opt-out scope (in number digests), audit retention (how long
        a MessageSid is remembered), notice interval and daily answer limit.
    """

    def __init__(self, redis: Redis, settings: Settings) -> None:
        super().__init__(redis, keys=Keys(settings.queue_prefix))
        self.settings = settings
        self._ttls = {
            "sid": int(settings.optout_audit_retention.total_seconds()),
            "token": int(TOKEN_DEDUPE_TTL.total_seconds()),
        }

    def message_markers(
        self, *, message_sid: str | None, idempotency_token: str | None
    ) -> dict[str, int]:
        """The keys that mark one message as processed, each with its TTL in seconds."""
        return {
            self.keys.inbound_seen(kind, value): self._ttls[kind]
            for kind, value in (("sid", message_sid), ("token", idempotency_token))
            if value
        }

    @staticmethod
    def check_markers(pipe: Pipeline, markers: Mapping[str, int]) -> None:
        """Queue on ``pipe`` one EXISTS per marker: any answering 1 makes the text a
        duplicate. Reading them writes nothing: the step that does what the text asks
        writes them (a script, or :meth:`claim`), so a failure before it leaves none."""
        for marker in markers:
            pipe.exists(marker)

    def claim(self, markers: Mapping[str, int]) -> bool:
        """Write ``markers`` unless one is there already (one ``SET NX`` each, one round
        trip): True when every one was new, for a text whose answer writes nothing else
        that could carry them. Else False, and the ones just written are taken back."""
        with self.redis.pipeline(transaction=False) as pipe:
            for marker, ttl in markers.items():
                pipe.set(marker, "1", nx=True, ex=ttl)
            claimed = pipe.execute()
        if all(claimed):
            return True
        # A replay under a fresh idempotency token (a header, outside the signature) leaves
        # no marker behind: a duplicate writes nothing.
        self.release([marker for marker, new in zip(markers, claimed, strict=True) if new])
        return False

    def release(self, markers: list[str]) -> None:
        """Forget ``markers`` (best effort: a failure leaves them to expire)."""
        try:
            if markers:
                self.redis.delete(*markers)
        except RedisError:
            pass

    def claim_notice(self, number: str, now: dt.datetime) -> bool:
        """True if the "we do not reply" notice may go to ``number`` now (and claims it)."""
        interval = self.settings.no_reply_notice_interval.total_seconds()
        return bool(
            self.script("inbound_claim_notice")(
                keys=[self.keys.inbound_notice(self._number_key(number))],
                args=[now.timestamp(), interval, max(int(interval), 1)],
            )
        )

    def claim_reply(self, number: str, kind: str, now: dt.datetime) -> bool:
        """True if ``number`` may have one more answer to the keyword ``kind`` (a
        ``KeywordKind``) today (UTC), counted."""
        return bool(
            self.script("inbound_claim_reply")(
                keys=[self._answer_count(number, kind, now)],
                args=[self.settings.keyword_reply_limit, _REPLY_COUNT_TTL],
            )
        )

    def message_claim(
        self, markers: Mapping[str, int], *, number: str, kind: str, now: dt.datetime,
        answer: bool,
    ) -> MessageClaim:
        """The claim of an incoming keyword that changes the opt-out state: its
        ``markers``, and, if ``answer``, one more answer to ``kind`` today, within the
        daily limit (see :meth:`claim_reply`)."""
        return MessageClaim(
            markers=markers,
            answer_count=self._answer_count(number, kind, now) if answer else None,
            answer_limit=self.settings.keyword_reply_limit,
            answer_count_ttl=_REPLY_COUNT_TTL,
        )

    def _answer_count(self, number: str, kind: str, now: dt.datetime) -> str:
        day = now.astimezone(dt.UTC).date().isoformat()
        return self.keys.inbound_replies(self._number_key(number), kind, day)

    def _number_key(self, number: str) -> str:
        return number_digest(self.settings.optout_scope, number)
