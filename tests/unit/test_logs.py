"""The log filter keeps patients' data out of every line, Dramatiq's included."""

from __future__ import annotations

import logging

import dramatiq

from notifier.logs import RedactingFilter, redact


def test_phone_numbers_and_emails_are_masked_but_keys_and_dates_are_not() -> None:
    line = redact("to +15145550188, (514) 555-0188 or a.b@example.org; "
                  "key 0000000001:reminder:sms:86400:20261201T1430Z at 2026-12-01T09:30:00")
    assert "5550188" not in line and "example.org" not in line
    assert "0000000001:reminder:sms:86400:20261201T1430Z" in line
    assert "2026-12-01T09:30:00" in line


def test_a_dramatiq_message_is_logged_by_actor_and_id_only() -> None:
    message: dramatiq.Message[object] = dramatiq.Message(
        queue_name="intake", actor_name="intake_event",
        args=({"patient": {"first_name": "Émilie", "last_name": "Tremblay",
                           "mobile_phone": "5145550188"}, "reason_for_visit": "x"},),
        kwargs={}, options={},
    )
    record = logging.LogRecord("dramatiq.worker.WorkerThread", logging.ERROR, __file__, 1,
                               "Failed to process message %s with unhandled exception.",
                               (message,), None)

    assert RedactingFilter().filter(record)

    line = record.getMessage()
    assert line == ("Failed to process message "
                    f"intake_event({message.message_id}) with unhandled exception.")
