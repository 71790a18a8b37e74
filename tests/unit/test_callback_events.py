"""The public body of a callback, from a callback log entry: the fields integrators read,
and nothing else."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.callbacks.events import body_bytes, callback_event, callback_events
from notifier.errors import MalformedLogEntry
from notifier.store.callback_log import LogEntry

# Every field the log writers put in a message.* entry.
MESSAGE_LOG_FIELDS = {
    "type": "message.delivered", "at": "2025-03-04T15:02:11.250Z", "key": "b7Qx2k9-r1",
    "reference": "RV-88412", "location": "plateau", "kind": "reminder", "channel": "sms",
    "lang": "fr", "version": "3", "status": "delivered", "reason": "", "error_code": "",
    "attempts": "1", "created_at": "2025-03-01T10:00:00Z",
}
CONTACT_LOG_FIELDS = {
    "type": "contact.opted_out", "at": "2025-03-04T15:02:11Z", "channel": "sms",
    "address": "+15145550123", "source": "sms_keyword", "locations": "plateau,verdun",
}
# What a message.* body may hold: the allowlist this test keeps on its own.
MESSAGE_DATA_KEYS = {
    "message_id", "reference", "location_id", "kind", "channel", "language", "status",
    "reason", "provider_code", "attempts", "sequence", "created_at", "updated_at",
}


def message_entry(**changes: str) -> LogEntry:
    return LogEntry("1741100531250-0", {**MESSAGE_LOG_FIELDS, **changes})


def test_a_delivered_message_event() -> None:
    assert callback_event(message_entry()) == {
        "id": "evt_1741100531250-0",
        "type": "message.delivered",
        "timestamp": "2025-03-04T15:02:11.250Z",
        "data": {
            "message_id": "b7Qx2k9-r1", "reference": "RV-88412", "location_id": "plateau",
            "kind": "reminder", "channel": "sms", "language": "fr", "status": "delivered",
            "reason": None, "provider_code": None, "attempts": 1,
            "sequence": 1741100531250000,
            "created_at": "2025-03-01T10:00:00Z", "updated_at": "2025-03-04T15:02:11.250Z",
        },
    }


@pytest.mark.parametrize(("changes", "status", "reason", "code"), [
    ({"type": "message.failed", "status": "undelivered", "error_code": "30006"},
     "failed", "landline", "30006"),
    ({"type": "message.failed", "status": "failed", "error_code": "21610"},
     "failed", "opted_out", "21610"),
    ({"type": "message.failed", "status": "failed", "channel": "email", "error_code": "550"},
     "failed", "bounced", "550"),
    ({"type": "message.suppressed", "status": "suppressed", "reason": "cancelled"},
     "suppressed", "cancelled", None),
    ({"type": "message.sent", "status": "accepted"}, "sent", None, None),
])
def test_status_reason_and_provider_code_are_the_public_ones(
    changes: dict[str, str], status: str, reason: str | None, code: str | None,
) -> None:
    data = callback_event(message_entry(**changes))["data"]
    assert isinstance(data, dict)
    assert (data["status"], data["reason"], data["provider_code"]) == (status, reason, code)


def test_attempts_and_sequence_are_numbers_and_a_later_entry_has_a_higher_sequence() -> None:
    entries = [LogEntry(entry_id, {**MESSAGE_LOG_FIELDS, "attempts": "4"})
               for entry_id in ("12-3", "12-999", "13-0")]
    data = [callback_event(entry)["data"] for entry in entries]
    assert [(d["attempts"], d["sequence"]) for d in data if isinstance(d, dict)] == [
        (4, 12003), (4, 12999), (4, 13000)]


def test_a_patient_response_carries_its_answer_and_the_logs_sequence() -> None:
    fields = {"type": "appointment.patient_declined", "at": "2025-03-04T15:02:11Z",
              "reference": "RV-88412", "location": "plateau", "version": "3",
              "response": "declined", "channel": "sms", "late": "1"}
    earlier, later = (callback_event(LogEntry(entry_id, fields)) for entry_id in ("12-999", "13-0"))
    assert later["data"] == {
        "reference": "RV-88412", "location_id": "plateau", "version": 3,
        "response": "declined", "channel": "sms", "answered_at": "2025-03-04T15:02:11Z",
        "past_cancellation_deadline": True, "sequence": 13000,
    }
    assert earlier["data"]["sequence"] == 12999  # type: ignore[index]


@pytest.mark.parametrize(("channel", "code", "told"), [
    ("sms", "30006", True), ("sms", "21211", True), ("email", "550", True),
    ("sms", "30003", False), ("sms", "30007", False), ("email", "554", False),
])
def test_a_failure_because_of_the_address_also_tells_the_address_to_fix(
    channel: str, code: str, told: bool,
) -> None:
    address = "+15145550123" if channel == "sms" else "patient@example.org"
    entry = message_entry(type="message.failed", status="undelivered", channel=channel,
                          error_code=code, address=address)

    events = callback_events(entry)

    assert events[0] == callback_event(entry) and address not in json.dumps(events[0])
    assert len(events) == (2 if told else 1)
    if told:
        assert events[1]["id"] == "evt_1741100531250-0.contact"
        assert events[1]["type"] == "contact.undeliverable"
        assert events[1]["data"] == {
            "address": address, "channel": channel, "source": "provider",
            "reason": callback_event(entry)["data"]["reason"],  # type: ignore[index]
            "provider_code": code, "message_id": "b7Qx2k9-r1", "reference": "RV-88412"}


_KNOWN = set(MESSAGE_LOG_FIELDS)
_EXTRA_NAMES = st.text(st.characters(categories=["Ll", "Nd"], include_characters="_."),
                       min_size=1, max_size=12).filter(lambda name: name not in _KNOWN)


@given(extra=st.dictionaries(_EXTRA_NAMES, st.sampled_from([
    "+15145550123", "patient@example.org", "Gagnon-Tremblay", "Votre rendez-vous demain",
]), min_size=1, max_size=6))
def test_a_message_event_carries_only_the_listed_fields(extra: dict[str, str]) -> None:
    event = callback_event(message_entry(**extra))
    data = event["data"]
    assert isinstance(data, dict)

    assert set(event) == {"id", "type", "timestamp", "data"}
    assert set(data) == MESSAGE_DATA_KEYS
    body = body_bytes(event).decode()
    assert [value for value in extra.values() if value in body] == []


def test_the_fields_a_message_event_is_built_from_never_include_the_version() -> None:
    data = callback_event(message_entry(version="3-secret-looking"))["data"]
    assert "3-secret-looking" not in json.dumps(data)


def test_a_contact_event_carries_the_address_but_not_the_other_locations() -> None:
    event = callback_event(LogEntry("1741100531999-2", CONTACT_LOG_FIELDS))
    assert event == {
        "id": "evt_1741100531999-2", "type": "contact.opted_out",
        "timestamp": "2025-03-04T15:02:11Z",
        "data": {"address": "+15145550123", "channel": "sms", "source": "sms_keyword"},
    }


def test_a_contact_event_caused_by_a_message_names_it() -> None:
    fields = {**CONTACT_LOG_FIELDS, "type": "contact.undeliverable", "channel": "email",
              "address": "patient@example.org", "source": "provider", "key": "b7Qx2k9-r1",
              "reference": "RV-88412"}
    data = callback_event(LogEntry("1-0", fields))["data"]
    assert data == {"address": "patient@example.org", "channel": "email",
                    "source": "provider", "message_id": "b7Qx2k9-r1", "reference": "RV-88412"}


@pytest.mark.parametrize(("changes", "removed", "said"), [
    ({}, "key", "no key field"),
    ({"status": "lost-in-space"}, None, "status is not valid"),
    ({"channel": "pigeon"}, None, "channel is not valid"),
    ({"attempts": "many"}, None, "attempts is not valid"),
    ({"type": "message.teleported"}, None, "unknown type"),
])
def test_a_malformed_entry_is_refused_without_showing_its_values(
    changes: dict[str, str], removed: str | None, said: str,
) -> None:
    fields = {**MESSAGE_LOG_FIELDS, **changes}
    if removed:
        del fields[removed]
    with pytest.raises(MalformedLogEntry) as refused:
        callback_event(LogEntry("42-0", fields))
    assert str(refused.value) == f"callback log entry 42-0: {said}"


def test_the_body_is_compact_utf8_json() -> None:
    event = callback_event(message_entry(reference="Évaluation-Ste-Thérèse"))
    body = body_bytes(event)

    assert b" " not in body
    assert "Évaluation-Ste-Thérèse".encode() in body
    assert json.loads(body) == event


def test_a_message_stopped_before_any_attempt_or_without_its_appointment_still_tells() -> None:
    fields = {name: value for name, value in MESSAGE_LOG_FIELDS.items()
              if name not in ("attempts", "location", "lang")}
    entry = LogEntry("5-0", {**fields, "type": "message.suppressed", "status": "suppressed",
                             "reason": "unknown_appointment"})
    data = callback_event(entry)["data"]
    assert isinstance(data, dict)
    assert (data["attempts"], data["location_id"], data["language"], data["reason"]) == (
        0, None, None, "unknown_appointment")
