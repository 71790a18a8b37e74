"""The README's callbacks section: its receiver example accepts what the gateway signs and
refuses the rest, and its sample event has the shape the gateway builds."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from notifier.callbacks.events import body_bytes, callback_event
from notifier.callbacks.signing import new_secret, webhook_headers
from notifier.store.callback_log import LogEntry

README = Path(__file__).resolve().parents[2] / "README.md"


def section() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("### Callbacks"):text.index("## What became of each message")]


def receiver(secret: str, kept: list[tuple[Any, ...]]) -> Any:
    (code,) = re.findall(r"```python\n(.*?)```", section(), re.S)
    namespace: dict[str, Any] = {"SECRET": secret, "keep_if_newer": lambda *a: kept.append(a),
                                 "keep_answer_if_newer": lambda *a: kept.append(a)}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace["receive"]


def test_the_readme_receiver_accepts_a_signed_event_and_refuses_a_changed_one() -> None:
    secret = new_secret()
    kept: list[tuple[Any, ...]] = []
    receive = receiver(secret, kept)
    entry = LogEntry("1764927731250-0", {
        "type": "message.failed", "at": "2026-12-05T09:42:11+00:00", "key": "k",
        "reference": "0000000101", "location": "plateau", "kind": "reminder", "channel": "sms",
        "lang": "fr", "status": "undelivered", "error_code": "30006", "attempts": "1",
        "created_at": "2026-12-05T09:42:09+00:00"})
    body = body_bytes(callback_event(entry))
    headers = webhook_headers([secret], "evt_1764927731250-0", int(time.time()), body)

    assert receive(body, headers) == 204
    assert kept == [("k", 1764927731250000, "failed", "landline")]
    assert receive(body.replace(b"landline", b"bounced!"), headers) == 400
    assert receive(body, {**headers, "webhook-timestamp": str(int(time.time()) - 3600)}) == 400
    assert receive(body, webhook_headers([new_secret()], "evt_1", int(time.time()), body)) == 400


def test_the_readme_receiver_keeps_a_patient_response_by_its_sequence() -> None:
    secret = new_secret()
    kept: list[tuple[Any, ...]] = []
    receive = receiver(secret, kept)
    entry = LogEntry("1764927731250-2", {
        "type": "appointment.patient_confirmed", "at": "2026-12-05T09:42:11+00:00",
        "reference": "0000000101", "location": "plateau", "version": "2",
        "response": "confirmed", "channel": "sms", "late": "0"})
    body = body_bytes(callback_event(entry))
    headers = webhook_headers([secret], "evt_1764927731250-2", int(time.time()), body)

    assert receive(body, headers) == 204
    assert kept == [("0000000101", 1764927731250002, "confirmed")]


def test_the_readme_sample_event_has_the_fields_the_gateway_sends() -> None:
    (sample,) = re.findall(r"```json\n(.*?)```", section(), re.S)
    shown = json.loads(sample)
    entry = LogEntry("1-0", {
        "type": "message.delivered", "at": "t", "key": "k", "reference": "r",
        "location": "l", "kind": "reminder", "channel": "sms", "lang": "fr",
        "status": "delivered", "attempts": "1", "created_at": "t"})
    built = callback_event(entry)
    assert set(shown) == set(built)
    assert set(shown["data"]) == set(built["data"])  # type: ignore[arg-type]
