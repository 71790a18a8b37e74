"""Logging set-up shared by every process: one line per record, no patient data.

Modules log send keys, reference numbers, kinds and reason codes only; this filter is a
second line of defence that masks anything shaped like a phone number or an email
address before a record is written.
"""

from __future__ import annotations

import logging
import re

import dramatiq

_PHONE = re.compile(r"\+\d{8,15}\b|\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def redact(text: str) -> str:
    text = _EMAIL.sub("[email]", text)
    return _PHONE.sub("[phone]", text)


def _without_payload(arg: object) -> object:
    # Dramatiq logs whole messages ("Failed to process message intake_event({...})"), whose
    # arguments hold names and numbers: keep only what identifies the message.
    if isinstance(arg, dramatiq.Message):
        return f"{arg.actor_name}({arg.message_id})"
    return arg


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_without_payload(arg) for arg in record.args)
        elif record.args is not None:
            record.args = _without_payload(record.args)  # type: ignore[assignment]
        record.msg = redact(record.getMessage())
        record.args = None
        return True


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s")
    )
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The twilio client logs every request at INFO (URLs with the account SID, headers):
    # noise at best, and a tenth of a worker's time per message.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
