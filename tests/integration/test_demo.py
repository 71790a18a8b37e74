"""The README's demo command, end to end through real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Outbox files are named after send keys; a reminder's ends with the start it announces.
EXPECTED = {
    "0000000101_confirmation_sms_v1",
    "0000000101_confirmation_email_v1",
    "0000000101_reminder_sms_86400_",
    "0000000102_confirmation_voice_v1",
    "0000000102_reminder_voice_259200_",
    "0000000103_cancellation_email_v3",
    "0000000104_no_show_email_v2",
}


def wait_for(condition: object, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.mark.slow
def test_the_demo_delivers_every_kind_then_stops_cleanly(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    env = {key: value for key, value in os.environ.items() if not key.startswith("NOTIFIER_")}
    env["NOTIFIER_OUTBOX_DIR"] = str(outbox)
    demo = subprocess.Popen(
        [sys.executable, "-m", "notifier", "demo"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        def delivered() -> set[str]:
            return {path.name for path in outbox.glob("*/*.txt")}

        def all_expected() -> bool:
            names = delivered()
            return all(any(n.startswith(prefix) for n in names) for prefix in EXPECTED)

        wait_for(lambda: all_expected() or demo.poll() is not None,
                 timeout=120, what="the demo's messages")
        assert demo.poll() is None, "the demo stopped by itself"
        demo.send_signal(signal.SIGINT)
        output = demo.communicate(timeout=60)[0].decode()
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()

    assert demo.returncode == 0, output
    assert "demo stopped" in output
    assert "Traceback" not in output
    assert "Connection refused" not in output
    # Nothing confirms or reminds the cancelled appointment.
    assert not [name for name in delivered() if name.startswith("0000000103_reminder")]
    # The logs never show a patient's name, phone or email.
    for secret in ("Tremblay", "Thompson", "Gagnon", "5550188", "example.org"):
        assert secret not in output
