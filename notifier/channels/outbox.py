"""The outbox: messages land as files a person can read, one per send key.

The local default when no provider is configured, and the demo's channel. A file is
written under a temporary name and renamed, so a reader never sees half a message and a
second send of the same key replaces the file instead of adding one.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable
from pathlib import Path

from notifier.channels.base import HandOver, Receipt
from notifier.messages.catalogue import Rendered
from notifier.planning.entries import PlannedMessage


class OutboxClient:
    """Writes each message to ``<directory>/<day>/<send key>.<ext>``.

    Parameters:
      directory: the outbox folder (created with owner-only permissions: files hold
        patients' addresses, as a provider would receive them).
      clock: returns the current time, written into each file.
      attempt_bound: how long an attempt may hold its message: the bound of the provider
        the outbox stands in for, so that a deployment without it locks as one with it.
    """

    idempotent = True

    def __init__(
        self, directory: Path, *, clock: Callable[[], dt.datetime], attempt_bound: dt.timedelta
    ) -> None:
        self.directory = directory
        self.clock = clock
        self.attempt_bound = attempt_bound

    def prepare(self, message: PlannedMessage, rendered: Rendered, address: str) -> HandOver:
        """Any rendered message can be written."""
        return functools.partial(self.send, message, rendered, address)

    def send(self, message: PlannedMessage, rendered: Rendered, address: str) -> Receipt:
        now = self.clock()
        folder = self.directory / now.astimezone(dt.UTC).strftime("%Y-%m-%d")
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = message.key.replace(":", "_")
        headers = [
            f"Key: {message.key}",
            f"Kind: {rendered.kind}",
            f"Channel: {rendered.channel}",
            f"Language: {rendered.lang}",
            f"To: {address}",
            f"Sent-At: {now.astimezone(dt.UTC).isoformat()}",
        ]
        if rendered.sms is not None:
            headers.append(
                f"Encoding: {rendered.sms.encoding}, {rendered.sms.characters} characters, "
                f"{rendered.sms.segments} segment(s)"
            )
        if rendered.subject is not None:
            headers.append(f"Subject: {rendered.subject}")
        _write(folder / f"{name}.txt", "\n".join(headers) + "\n\n" + rendered.text + "\n")
        if rendered.html is not None:
            _write(folder / f"{name}.html", rendered.html)
        # A file in the outbox is as delivered as a message can be.
        return Receipt(provider_id=f"outbox:{message.key}", status="delivered")

    def find_sent(
        self, message: PlannedMessage, rendered: Rendered, address: str, *,
        between: tuple[dt.datetime, dt.datetime], taken: Callable[[str], bool],
    ) -> Receipt | None:
        """Never needed (a second send replaces the file), and never a reason to wait."""
        return None

    def close(self) -> None:
        """Nothing stays open between messages."""


def _write(path: Path, text: str) -> None:
    partial = path.with_suffix(path.suffix + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
