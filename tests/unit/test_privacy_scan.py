"""The session's privacy scan finds a patient in a message callback, and nothing in a clean
one or in a contact callback, which is about an address."""

from __future__ import annotations

import json

from tests.privacy_scan import scan


def body(kind: str, **data: object) -> bytes:
    return json.dumps({"id": "evt_1-0", "type": kind,
                       "data": {"message_id": "0000000101:confirmation:sms:v1",
                                "reference": "0000000101", "sequence": 1764927731250000,
                                **data}}).encode()


def test_a_clean_message_event_and_a_contact_event_pass() -> None:
    assert scan([body("message.sent", location_id="plateau", attempts=1),
                 body("contact.opted_out", address="+15145550188")], {"Tremblay"}) == []


def test_a_phone_an_email_or_a_name_in_a_message_event_is_found() -> None:
    found = scan([body("message.failed", note="+15145550188"),
                  body("message.failed", note="emilie@example.org"),
                  body("message.sent", note="Mme Tremblay")], {"Tremblay"})
    assert found == ["evt_1-0: a phone number", "evt_1-0: an email address",
                     "evt_1-0: a patient's name"]
