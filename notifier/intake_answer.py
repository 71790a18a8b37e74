"""What a booking system is told about an event the gateway took, at either door.

The HTTP door answers with it; the Dramatiq door keeps it all the same, so that the event
sent again, by either door, gets the same answer. A refused event gets no answer here: the
store raises, and each door says so its own way (:mod:`notifier.web.errors`).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

# The HTTP status of each outcome, named by the body's ``status``.
STATUS_CODES = {"accepted": 202, "ignored": 200}


@dataclass(frozen=True)
class IntakeAnswer:
    """The answer to one event; the same event id always gets the same one.

    Parameters:
      status_code: the HTTP status (:data:`STATUS_CODES`).
      body: the JSON body; its ``status`` is ``accepted`` or ``ignored``.
      fingerprint: the answered event's fingerprint (:func:`notifier.store.intake.fingerprint`);
        None for an answer stored before fingerprints were (such a repeat is answered
        without comparison).
    """

    status_code: int
    body: dict[str, Any]
    fingerprint: str | None = None

    @classmethod
    def of(cls, body: dict[str, Any], fingerprint: str) -> IntakeAnswer:
        """The answer carrying ``body``, with the status code of its ``status``."""
        return cls(STATUS_CODES[body["status"]], body, fingerprint)

    def packed(self) -> bytes:
        """The stored form: the JSON of :meth:`from_json`, without spaces, compressed
        with zlib (the answer is written once per event and read only for a repeat)."""
        text = json.dumps({"status_code": self.status_code, "body": self.body,
                           "fingerprint": self.fingerprint},
                          ensure_ascii=False, separators=(",", ":"))
        return zlib.compress(text.encode())

    @classmethod
    def from_json(cls, raw: str | bytes) -> IntakeAnswer:
        """Read a stored answer: the packed form (:meth:`packed`) or the JSON written
        before it (a zlib stream never starts with ``{``)."""
        stored = raw.encode() if isinstance(raw, str) else raw
        data = json.loads(stored if stored[:1] == b"{" else zlib.decompress(stored))
        return cls(status_code=int(data["status_code"]), body=data["body"],
                   fingerprint=data.get("fingerprint"))
