"""A scan, over the whole test session, of what the gateway told booking systems: every
callback body any test's receiver got. A ``message.*`` event names no patient: no name,
no phone number, no email address, no text; only a ``contact.*`` event carries the
address it is about."""

from __future__ import annotations

import json
import re
import threading

# Phone numbers as the tests write them (E.164 or ten digits), and email addresses.
_PHONE = re.compile(r"\+?1?\d{10}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")

_seen: list[bytes] = []
_lock = threading.Lock()


def record(body: bytes) -> None:
    """Keep one callback body for the session's scan."""
    with _lock:
        _seen.append(body)


def leaks(patient_names: set[str]) -> list[str]:
    """What the bodies recorded so far show of patients: one line per leak."""
    with _lock:
        bodies = list(_seen)
    return scan(bodies, patient_names)


def scan(bodies: list[bytes], patient_names: set[str]) -> list[str]:
    """What ``bodies`` show of patients (``patient_names`` among them): one line per leak."""
    found = []
    for body in bodies:
        try:
            event = json.loads(body)
        except ValueError:
            continue  # not one of the gateway's events (a test posting garbage itself)
        if not str(event.get("type", "")).startswith("message."):
            continue
        # The ids and times are digits too: only the values a person could be found by.
        text = json.dumps({k: v for k, v in event.get("data", {}).items()
                           if k not in ("sequence", "message_id", "reference")},
                          ensure_ascii=False)
        for what, pattern in (("a phone number", _PHONE), ("an email address", _EMAIL)):
            if pattern.search(text):
                found.append(f"{event.get('id')}: {what}")
        found += [f"{event.get('id')}: a patient's name" for name in patient_names
                  if name in text]
    return found


def recorded() -> int:
    with _lock:
        return len(_seen)
