"""An appointment's story as the operator reads it: the appointment, then one row per
message with its current state and its history, in their language."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel
from notifier.operations.failure_words import explain_failure
from notifier.operations.received_text import Received
from notifier.operations.story import Story, StoryEntry
from notifier.planning.reasons import Reason, describe
from notifier.privacy import mask_address
from notifier.public_status import (
    PublicStatus,
    describe_reason,
    public_reason,
    public_status,
    status_word,
)
from notifier.web.console.clinic_names import ClinicNames
from notifier.web.console.i18n import Words
from notifier.web.console.send_keys import send_key_text

REFERENCE = re.compile(r"^\d{10}$")

# A phone number in international form or an email address: masked if one ever reaches
# a story line (the story holds none; this is a second line of defence).
_ADDRESS = re.compile(r"\+\d{8,15}|[^\s@\"'<>,;]+@[^\s@\"'<>,;]+")
# A number written as people and providers' messages write it: (514) 555-0188,
# 514.555.0188, 1-514-555-0188 (never ten bare digits: an appointment's reference is).
_NATIONAL = re.compile(
    r"(?<![\w+])(?:1[\s.-])?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\w)")


def scrub(text: str) -> str:
    """``text`` with any phone number or email address in it masked."""
    masked = _ADDRESS.sub(lambda m: mask_address(m[0]), text)
    return _NATIONAL.sub(lambda m: "•" * (len(m[0]) - 3) + m[0][-3:], masked)


def _message(words: Words, details: dict[str, Any]) -> str:
    """A message's kind and channel in words; a line about no one message (an event, a
    version reset) is about the appointment itself."""
    if not details.get("kind") and not details.get("channel"):
        return words("story.about_appointment")
    parts = [words.maybe("kind", details.get("kind")), words.maybe("channel",
                                                                   details.get("channel"))]
    return " · ".join(parts)


def _public_status(words: Words, status: Any) -> str:
    try:
        return status_word(public_status(DeliveryStatus(str(status))), words.lang)
    except ValueError:
        return words.maybe("status", status)


def _time(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _lines(entry: StoryEntry, words: Words) -> list[str]:
    """The row's details, one short sentence each."""
    d = entry.details
    lines: list[str] = []
    if entry.what == "event":
        lines.append(words.maybe("event", d.get("type")))
        lines.append(f"v{d.get('version', '?')} · {words.maybe('intake', d.get('status'))}")
        for planned in d.get("planned") or []:
            due = words.when(_time(planned.get("send_at")))
            lines.append(f"→ {_message(words, planned)} · {due}")
        for skipped in d.get("skipped") or []:
            reason = str(skipped.get("reason", ""))
            head = _message(words, skipped) if skipped.get("kind") else ""
            lines.append(f"✕ {head + ' : ' if head else ''}{describe(reason, words.lang)}")
        for key in d.get("withdrawn") or []:
            kind, channel = [*str(key).split(":"), "", ""][1:3]
            head = _message(words, {"kind": kind, "channel": channel})
            lines.append(f"✕ {head} : {describe(Reason.WITHDRAWN, words.lang)}")
        if d.get("reason"):
            lines.append(describe(str(d["reason"]), words.lang))
    elif entry.what == "version_reset":
        lines.append(f"v{d.get('previous_version', '?')} → v{d.get('version', '?')}")
        lines.append(words("story.by", actor=str(d.get("actor", ""))))
        if d.get("reason"):
            lines.append(str(d["reason"]))
    elif entry.what == "delivery":
        # The status booking systems read in the API and callbacks, in the same words.
        lines.append(f"{_message(words, d)} · {_public_status(words, d.get('status'))}")
        if d.get("attempts"):
            lines.append(words("story.attempts", count=d["attempts"]))
        why = d.get("error_code") or d.get("reason")
        if why and d.get("status") in ("failed", "undelivered", "suppressed"):
            lines.append(explain_failure(str(why), d.get("channel"), words.lang))
    else:
        lines.append(_message(words, d))
        if entry.what == "pending" and d.get("version") is not None:
            lines.append(f"v{d['version']}")
        if d.get("reason"):
            lines.append(explain_failure(str(d["reason"]), d.get("channel"), words.lang))
    return [scrub(line) for line in lines]


def _state(key: str, entries: list[StoryEntry], words: Words) -> tuple[str, str, str]:
    """A message's current state: its public status word, the reason in words (empty
    when nothing went wrong) and its tone (a CSS class)."""
    record = next((e.details for e in reversed(entries) if e.what == "delivery"), None)
    channel = _channel_of(key)
    if record is not None:
        try:
            status = DeliveryStatus(str(record.get("status")))
        except ValueError:
            return words.maybe("status", record.get("status")), "", "unknown"
        public = public_status(status)
        code = None
        if channel is not None:
            code = public_reason(status, reason=record.get("reason"),
                                 error_code=record.get("error_code"), channel=channel)
        return (status_word(public, words.lang),
                "" if code is None else describe_reason(code, words.lang), str(public))
    last = entries[-1]
    if last.what == "pending":
        return status_word(PublicStatus.SCHEDULED, words.lang), "", "scheduled"
    if last.what == "withdrawn":
        return (status_word(PublicStatus.WITHDRAWN, words.lang),
                describe(Reason.WITHDRAWN, words.lang), "withdrawn")
    if last.what in ("suppressed", "failed"):
        public = PublicStatus.SUPPRESSED if last.what == "suppressed" else PublicStatus.FAILED
        reason = str(last.details.get("reason", ""))
        return (status_word(public, words.lang),
                describe_reason(reason, words.lang) if reason else "", str(public))
    if last.what == "sent":
        return status_word(PublicStatus.SENT, words.lang), "", "sent"
    return status_word(PublicStatus.SCHEDULED, words.lang), "", "scheduled"


def _channel_of(key: str) -> Channel | None:
    try:
        return Channel(key.split(":")[2])
    except (IndexError, ValueError):
        return None


def _history(entries: list[StoryEntry], words: Words) -> list[dict[str, Any]]:
    return [{"when": words.when(e.at), "what": words.maybe("what", e.what),
             "lines": _lines(e, words)} for e in entries]


def _received_view(received: Received | None, words: Words) -> dict[str, Any] | None:
    if received is None:
        return None
    sms = None
    if received.segments is not None:
        sms = words("story.received.sms_count", encoding=received.encoding,
                    count=words.number(received.segments))
    return {"text": received.text, "subject": received.subject, "sms": sms,
            "label": words(f"story.received.{received.channel}")}


def _zone(name: Any) -> ZoneInfo | None:
    try:
        return ZoneInfo(str(name)) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def story_view(story: Story, words: Words, *, clinics: ClinicNames) -> dict[str, Any]:
    """The template's values for one appointment's story: the appointment (its facts and
    its own history), then one row per message with its current state and history.

    Parameters:
      story: the appointment's story.
      words: the operator's words.
      clinics: the clinics' names and zones.
    """
    facts = story.appointment
    appointment = None
    # The start as the patient read it: in the zone of the appointment's own location.
    zone = (_zone(facts.get("time_zone")) if facts else None) or clinics.zone(story.location)
    if facts is not None:
        appointment = {
            "status": words.maybe("appointment", facts.get("status")),
            "start": words.where(_time(facts.get("start")), zone),
            "version": facts.get("version"),
            "location": clinics.name(facts.get("location")),
            "attendance": words.maybe("story.attendance", facts.get("attendance")),
            "lang": words.maybe("lang", facts.get("lang")),
            "modes": ", ".join(words.maybe("channel", m) for m in facts.get("modes", [])),
            "addresses": ", ".join(scrub(str(a)) for a in facts.get("addresses", {}).values()),
        }
    by_key: dict[str, list[StoryEntry]] = {}
    own: list[StoryEntry] = []
    for entry in story.entries:
        if entry.key:
            by_key.setdefault(entry.key, []).append(entry)
        else:
            own.append(entry)
        if entry.what == "event":
            for key in entry.details.get("withdrawn") or []:
                by_key.setdefault(str(key), []).append(StoryEntry(
                    at=entry.at, source="history", what="withdrawn", key=str(key)))
    messages = []
    for key, entries in by_key.items():
        entries.sort(key=lambda e: e.at)
        status, reason, tone = _state(key, entries, words)
        kind, channel = [*key.split(":"), "", "", ""][1:3]
        messages.append({
            "key": key, "about": _message(words, {"kind": kind, "channel": channel}),
            "status": status, "reason": reason, "tone": tone,
            "when": words.when(entries[-1].at),
            "history": _history(entries, words),
            "key_text": send_key_text(key, words, zone=zone),
            "received": _received_view(story.received.get(key), words),
        })
    return {
        "reference": story.reference,
        "location": clinics.name(story.location),
        "appointment": appointment,
        "own": _history(own, words),
        "messages": messages,
    }
