"""The README's demo command, end to end through real processes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.demo_run import outbox_names, run_demo_until

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


@pytest.mark.slow
def test_the_demo_delivers_every_kind_then_stops_cleanly(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    env = {key: value for key, value in os.environ.items() if not key.startswith("NOTIFIER_")}
    env["NOTIFIER_OUTBOX_DIR"] = str(outbox)
    code, output = run_demo_until([sys.executable, "-m", "notifier", "demo"], env=env,
                                  outbox=outbox, prefixes=EXPECTED, timeout=120)
    assert code == 0, output
    assert "demo stopped" in output
    assert "Traceback" not in output
    assert "Connection refused" not in output
    # Nothing confirms or reminds the cancelled appointment.
    assert not [name for name in outbox_names(outbox) if name.startswith("0000000103_reminder")]
    # The logs never show a patient's name, phone or email.
    for secret in ("Tremblay", "Thompson", "Gagnon", "5550188", "example.org"):
        assert secret not in output
