"""Run ``notifier demo`` until given messages land in its outbox, then stop it as a
person would (Ctrl-C)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest


def outbox_names(outbox: Path) -> set[str]:
    """The outbox's message files (named after send keys)."""
    return {path.name for path in outbox.glob("*/*.txt")}


def run_demo_until(
    command: Sequence[str], *, env: Mapping[str, str], outbox: Path, prefixes: set[str],
    timeout: float, cwd: Path | None = None,
) -> tuple[int, str]:
    """Start the demo, wait until a file starting with each of ``prefixes`` is in
    ``outbox`` (failing after ``timeout`` s or if the demo stops by itself), interrupt it,
    and return its exit status and output."""
    demo = subprocess.Popen(list(command), cwd=cwd, env=dict(env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while not all(any(name.startswith(prefix) for name in outbox_names(outbox))
                      for prefix in prefixes):
            if demo.poll() is not None:
                pytest.fail("the demo stopped by itself")
            if time.monotonic() > deadline:
                pytest.fail("timed out waiting for the demo's messages")
            time.sleep(0.2)
        demo.send_signal(signal.SIGINT)
        output = demo.communicate(timeout=60)[0].decode()
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    return demo.returncode, output
