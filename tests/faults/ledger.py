"""What the providers received, read back and held against the oracle.

Every SMS and call the fake Twilio took and every email the SMTP server accepted is
traced to its appointment by its recipient (each appointment has addresses of its own)
and to its kind by its words (the catalogue's opening words per channel and language).
The gateway's own delivery records are read only to account for duplicates: a copy
beyond what the oracle allows is excused only by a counted ambiguous resend
(``ambiguous`` in the delivery record; see ``notifier/sending.py``), and, with the stories
of the appointments whose number Twilio refuses, to hold each refused message to exactly
one fallback (:func:`check_fallbacks`).
"""

from __future__ import annotations

import datetime as dt
import html
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import redis

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel, Kind, Lang
from notifier.messages import formatting
from notifier.store.keys import Keys
from tests.factories import ZONE
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio
from tests.faults.workload import (
    NEVER,
    STAND_IN,
    Appointment,
    Expectation,
    Quiet,
    Story,
    Timing,
    expectations,
    no_show_due,
    quiet_intervals,
    reminder_dues,
)

# The words that tell each kind apart, per channel and language (templates/).
MARKERS: dict[Channel, dict[str, dict[Kind, str]]] = {
    Channel.SMS: {
        "fr": {Kind.CONFIRMATION: "Rendez-vous confirmé pour",
               Kind.CANCELLATION: "Rendez-vous annulé pour",
               Kind.MODIFICATION: "RV modifié pour",
               Kind.CONTACT_CHANGE: "vos coordonnées ont été modifiées",
               Kind.NO_SHOW: "vous avez manqué votre rendez-vous",
               Kind.REMINDER: "Rappel RV"},
        "en": {Kind.CONFIRMATION: "Appointment confirmed for",
               Kind.CANCELLATION: "Appointment cancelled for",
               Kind.MODIFICATION: "Appointment changed for",
               Kind.CONTACT_CHANGE: "your contact details were updated",
               Kind.NO_SHOW: "you missed your appointment",
               Kind.REMINDER: "Reminder: appointment"},
    },
    Channel.EMAIL: {  # the subject
        "fr": {Kind.CONFIRMATION: "Rendez-vous confirmé :",
               Kind.CANCELLATION: "Rendez-vous annulé :",
               Kind.MODIFICATION: "Rendez-vous modifié :",
               Kind.CONTACT_CHANGE: "Coordonnées modifiées",
               Kind.NO_SHOW: "Rendez-vous manqué :",
               Kind.REMINDER: "Rappel de votre rendez-vous"},
        "en": {Kind.CONFIRMATION: "Appointment confirmed:",
               Kind.CANCELLATION: "Appointment cancelled:",
               Kind.MODIFICATION: "Appointment changed:",
               Kind.CONTACT_CHANGE: "Contact details updated",
               Kind.NO_SHOW: "Missed appointment:",
               Kind.REMINDER: "Reminder of your appointment"},
    },
    Channel.VOICE: {  # what is said
        "fr": {Kind.CONFIRMATION: "est confirmé",
               Kind.CANCELLATION: "a été annulé",
               Kind.MODIFICATION: "Votre rendez-vous a été modifié",
               Kind.CONTACT_CHANGE: "ont été modifiées",
               Kind.NO_SHOW: "Vous avez manqué",
               Kind.REMINDER: "Nous vous rappelons"},
        "en": {Kind.CONFIRMATION: "is confirmed",
               Kind.CANCELLATION: "has been cancelled",
               Kind.MODIFICATION: "has been changed",
               Kind.CONTACT_CHANGE: "have been updated",
               Kind.NO_SHOW: "You missed",
               Kind.REMINDER: "This is a reminder"},
    },
}
IMMEDIATE_STEP = {Kind.CONFIRMATION: "booked", Kind.MODIFICATION: "modified",
                  Kind.CANCELLATION: "cancelled", Kind.CONTACT_CHANGE: "contact_changed"}


def _plain(text: str) -> str:
    """One space between words (babel's narrow and non-breaking spaces included)."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Delivered:
    """One message a provider took.

    Parameters:
      channel: how it went.
      address: its recipient.
      at: when the provider took it (epoch seconds).
      text: what the patient reads or hears (SMS body, the call's words, the email's
        subject and plain text), spaces normalised.
      provider_id: the Twilio SID or the email's Message-ID.
    """

    channel: Channel
    address: str
    at: float
    text: str
    provider_id: str

    def kinds(self, lang: str) -> list[Kind]:
        head = self.text.split("\n", 1)[0] if self.channel is Channel.EMAIL else self.text
        return [kind for kind, words in MARKERS[self.channel][lang].items() if words in head]

    def shows(self, start: dt.datetime, lang: str) -> bool:
        """Whether it announces ``start`` (in the channel's form of the date and time)."""
        language, local = Lang(lang), start.astimezone(ZONE)
        forms = {
            Channel.SMS: (formatting.sms_date(local), formatting.sms_time(local)),
            Channel.EMAIL: (formatting.long_date(local, language),
                            formatting.clock_time(local, language)),
            Channel.VOICE: (formatting.spoken_datetime(local, language),),
        }[self.channel]
        return all(_plain(form) in self.text for form in forms)


def delivered(twilio: FakeTwilio, smtp: FakeSmtp) -> list[Delivered]:
    """Everything the providers took, in the order they took it."""
    found = [
        Delivered(Channel.SMS, record.to or "", record.at, _plain(record.body or ""),
                  record.sid or "")
        for record in twilio.messages
    ]
    found += [
        Delivered(Channel.VOICE, record.to or "", record.at,
                  _plain(html.unescape(record.twiml or "")), record.sid or "")
        for record in twilio.calls
    ]
    for received in smtp.messages:
        message = received.message
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        found += [
            Delivered(Channel.EMAIL, recipient, received.at,
                      _plain(str(message["Subject"])) + "\n" + _plain(text),
                      str(message["Message-ID"]))
            for recipient in received.rcpt_tos
        ]
    return sorted(found, key=lambda d: d.at)


@dataclass(frozen=True)
class Record:
    """The parts of one delivery record (``{prefix}:delivery:{key}``) the checks need."""

    key: str
    reference: str
    kind: str
    channel: str
    status: str
    reason: str
    ambiguous: int
    updated_at: float


def delivery_records(client: redis.Redis, keys: Keys) -> list[Record]:
    prefix = keys.delivery("")
    found = []
    for raw_key in client.scan_iter(match=f"{prefix}*", count=1000):
        name = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
        fields = {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in client.hgetall(name).items()
        }
        found.append(Record(
            key=name[len(prefix):], reference=fields.get("reference", ""),
            kind=fields.get("kind", ""), channel=fields.get("channel", ""),
            status=fields.get("status", ""), reason=fields.get("reason", ""),
            ambiguous=int(fields.get("ambiguous", "0")),
            updated_at=dt.datetime.fromisoformat(fields["updated_at"]).timestamp()
            if "updated_at" in fields else 0.0,
        ))
    return found


@dataclass
class Findings:
    """What the ledgers show against the oracle; each list holds one sentence per problem.

    Parameters:
      lost: a message that should have arrived and did not.
      duplicates: copies beyond what the oracle allows, not accounted for by counted
        ambiguous resends.
      after_optout: an SMS that reached a number inside a quiet interval (after its ARRET
        was acknowledged, or after it was replaced).
      stale: a message for a state no longer true (after its ``until``, announcing a start
        it no longer has, or of a kind nothing called for).
      unknown: a message no appointment of the workload can explain.
      duplicate_copies: copies at a provider beyond what the oracle allows (all of them,
        accounted for or not).
      duplicates_by_channel: the same, per channel.
      ambiguous_counted: the sum of ``ambiguous`` over every delivery record.
      lateness: seconds from due (or acknowledged) to taken, per family of message.
      by_channel: messages taken per channel.
      fallbacks: a refused message without exactly one fallback handed to a provider (or
        whose story does not tell the failure, then its one fallback), or a fallback
        nothing refused called for.
      refused: messages refused for good (failed at create, or suppressed because their
        address was known undeliverable), and fallbacks_sent: their fallbacks handed to a
        provider.
    """

    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    after_optout: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    duplicate_copies: int = 0
    duplicates_by_channel: Counter[str] = field(default_factory=Counter)
    ambiguous_counted: int = 0
    lateness: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    by_channel: Counter[str] = field(default_factory=Counter)
    fallbacks: list[str] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    fallbacks_sent: int = 0

    def max_lateness(self) -> dict[str, float]:
        return {family: max(values) for family, values in self.lateness.items() if values}

    def lateness_summary(self) -> str:
        parts = []
        for family, values in sorted(self.lateness.items()):
            if values:
                ordered = sorted(values)
                p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
                parts.append(f"{family}: p50 {statistics.median(ordered):.1f}s, "
                             f"p95 {p95:.1f}s, max {ordered[-1]:.1f}s (n={len(ordered)})")
        return "; ".join(parts)


def check(
    appointments: Iterable[Appointment], messages: list[Delivered], records: list[Record],
    timing: Timing, stories: Mapping[str, list[dict[str, str]]],
) -> Findings:
    """Hold the providers' ledgers against the oracle (see :class:`Findings`); ``stories``
    are the appointments' stories (the FALLBACK ones at least), by reference."""
    appointments = list(appointments)
    findings = Findings()
    check_fallbacks(appointments, records, stories, findings)
    by_address: dict[str, Appointment] = {}
    for appointment in appointments:
        for address in appointment.addresses():
            by_address[address] = appointment
    ambiguous: Counter[tuple[str, str, str]] = Counter()
    for record in records:
        ambiguous[record.reference, record.channel, record.kind] += record.ambiguous
        findings.ambiguous_counted += record.ambiguous

    received: dict[str, list[tuple[Delivered, Kind]]] = defaultdict(list)
    for message in messages:
        findings.by_channel[str(message.channel)] += 1
        owner = by_address.get(message.address)
        if owner is None or owner.addresses()[message.address] != message.channel:
            findings.unknown.append(f"a {message.channel} message to an address no appointment "
                                    f"has ({message.provider_id})")
            continue
        kinds = message.kinds(owner.lang)
        if len(kinds) != 1:
            findings.unknown.append(
                f"a {message.channel} message for appointment {owner.reference} whose "
                f"kind cannot be read ({kinds or 'no kind'}): {message.text[:120]!r}"
            )
            continue
        received[owner.reference].append((message, kinds[0]))
        for quiet in quiet_intervals(owner):
            if (message.channel is Channel.SMS and message.address == quiet.number
                    and quiet.since < message.at < quiet.until):
                findings.after_optout.append(_quiet_problem(owner, kinds[0], message, quiet))

    for appointment in appointments:
        _check_appointment(appointment, received[appointment.reference], ambiguous, timing,
                           findings)
    return findings


def _quiet_problem(appointment: Appointment, kind: Kind, message: Delivered,
                   quiet: Quiet) -> str:
    return (f"appointment {appointment.reference} ({appointment.story}): a {kind} SMS "
            f"reached a number {message.at - quiet.since:.2f}s after {quiet.why} "
            f"({message.provider_id})")


def _check_appointment(
    appointment: Appointment, received: list[tuple[Delivered, Kind]],
    ambiguous: Counter[tuple[str, str, str]], timing: Timing, findings: Findings,
) -> None:
    a = appointment
    wanted = expectations(a, timing)
    matched: dict[int, list[Delivered]] = defaultdict(list)
    for message, kind in received:
        candidates = [
            index for index, expectation in enumerate(wanted)
            if expectation.channel is message.channel and expectation.kind is kind
            and (expectation.shows is None or message.shows(expectation.shows, a.lang))
        ]
        if not candidates:
            findings.stale.append(
                f"appointment {a.reference} ({a.story}): a {kind} {message.channel} nothing "
                f"called for{_shown(a, message)} ({message.provider_id})"
            )
            continue
        matched[candidates[0]].append(message)

    excess: Counter[tuple[str, str]] = Counter()
    for index, expectation in enumerate(wanted):
        copies = sorted(matched[index], key=lambda m: m.at)
        what = f"appointment {a.reference} ({a.story}): {expectation.kind} by {expectation.channel}"
        if len(copies) < expectation.least:
            findings.lost.append(f"{what}: {len(copies)} arrived, {expectation.least} "
                                 f"expected ({expectation.why})")
        for message in copies:
            if message.at > expectation.until:
                findings.stale.append(
                    f"{what}: arrived {message.at - expectation.until:.2f}s after it stopped "
                    f"being true ({expectation.why}; {message.provider_id})"
                )
        extra = len(copies) - expectation.most
        if extra > 0:
            excess[str(expectation.channel), str(expectation.kind)] += extra
        _lateness(a, expectation, copies, timing, findings)
    for (channel_name, kind_name), extra in excess.items():
        findings.duplicate_copies += extra
        findings.duplicates_by_channel[channel_name] += extra
        counted = ambiguous[a.reference, channel_name, kind_name]
        if extra > counted:
            findings.duplicates.append(
                f"appointment {a.reference} ({a.story}): {extra} {kind_name} {channel_name} copies "
                f"too many, {counted} counted as ambiguous resends"
            )


def _shown(appointment: Appointment, message: Delivered) -> str:
    starts = {appointment.start, appointment.final_start}
    shown = [start for start in starts if message.shows(start, appointment.lang)]
    if len(starts) > 1 and shown:
        which = "old" if shown[0] == appointment.start else "new"
        return f" (announcing the {which} start)"
    return ""


def _lateness(appointment: Appointment, expectation: Expectation, copies: list[Delivered],
              timing: Timing, findings: Findings) -> None:
    if not copies or expectation.until != NEVER:
        return
    kind = expectation.kind
    if kind is Kind.REMINDER and expectation.shows is not None:
        for due, message in zip(reminder_dues(expectation.shows, timing), copies, strict=False):
            findings.lateness["reminder"].append(message.at - due)
    elif kind is Kind.NO_SHOW and appointment.story is Story.NO_SHOW:
        findings.lateness["no_show"].append(copies[0].at - no_show_due(appointment, timing))
    elif kind in IMMEDIATE_STEP:
        step = appointment.step(IMMEDIATE_STEP[kind])
        if step.acked is not None:
            findings.lateness["immediate"].append(copies[0].at - step.acked)


# What a provider holds: the statuses a fallback reaches once handed over.
_TAKEN = frozenset({DeliveryStatus.ACCEPTED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED})
_ROUTES = frozenset({"fallback", "retry"})


def _routed(key: str) -> bool:
    """Whether ``key`` names a fallback or a call's retry."""
    return bool(_ROUTES & set(key.split(":")))


def _family(key: str) -> tuple[str, ...]:
    """What the messages of one family share: the key without channel or route."""
    reference, kind, _channel, *rest = key.split(":")
    return (reference, kind, *(part for part in rest if part not in _ROUTES))


def fallback_key(key: str, channel: Channel) -> str:
    """The send key of ``key``'s fallback on ``channel`` (as the README writes one: the
    channel's, with ``fallback`` before the version or the start announced)."""
    reference, kind, _channel, *rest = key.split(":")
    return ":".join([reference, kind, str(channel), *rest[:-1], "fallback", rest[-1]])


def check_fallbacks(appointments: list[Appointment], records: list[Record],
                    stories: Mapping[str, list[dict[str, str]]], findings: Findings) -> None:
    """Each message Twilio refused (or the gateway held back because its address was
    known undeliverable) has exactly one fallback on its stand-in channel, handed to a
    provider; its story tells the failure once, then the one fallback; and no other
    appointment has a fallback or a call's retry."""
    by_key = {record.key: record for record in records}
    refusing = {a.reference: a for a in appointments if a.refused is not None}
    for record in records:
        if _routed(record.key) and record.reference not in refusing:
            findings.fallbacks.append(f"{record.key}: a follow-up nothing refused called "
                                      f"for ({record.status})")
    for reference, appointment in refusing.items():
        assert appointment.refused is not None
        story = stories.get(reference, [])
        refused = [r for r in records if r.reference == reference and not _routed(r.key)
                   and r.channel == appointment.refused]
        for record in refused:
            what = f"appointment {reference}: {record.kind} by {record.channel} ({record.key})"
            if record.status not in (DeliveryStatus.FAILED, DeliveryStatus.SUPPRESSED):
                findings.fallbacks.append(f"{what}: {record.status}, not refused")
                continue
            findings.refused[record.reason] += 1
            stand_in = fallback_key(record.key, STAND_IN[appointment.refused])
            fallback = by_key.get(stand_in)
            if fallback is None:
                findings.fallbacks.append(f"{what}: no fallback planned")
            elif fallback.status not in _TAKEN:
                findings.fallbacks.append(f"{what}: its fallback is {fallback.status}")
            else:
                findings.fallbacks_sent += 1
            others = [key for key in by_key if key != stand_in and _routed(key)
                      and _family(key) == _family(record.key)]
            if others:
                findings.fallbacks.append(f"{what}: other follow-ups {others}")
            told = [index for index, line in enumerate(story)
                    if line.get("key") == record.key and line.get("what") == record.status]
            scheduled = [index for index, line in enumerate(story)
                         if line.get("what") == "fallback_scheduled"
                         and line.get("after") == record.key]
            if len(told) != 1 or len(scheduled) != 1 or told[0] > scheduled[0]:
                findings.fallbacks.append(
                    f"{what}: the story tells the failure at lines {told} and its fallback "
                    f"at lines {scheduled}")
