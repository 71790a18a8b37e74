"""The README's demo command, end to end through real processes."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
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


CONSOLE_LINE = re.compile(
    r"^console: (http://127\.0\.0\.1:\d+/console/)  \(sign in as (\S+), password (\S+)\)$")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _console_line(demo: subprocess.Popen[str], *, timeout: float) -> re.Match[str]:
    """The demo's line naming the console, read as it prints it (the rest of its output
    keeps draining into a thread so that the demo never blocks on a full pipe)."""
    lines: queue.Queue[str] = queue.Queue()
    assert demo.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in demo.stdout],  # type: ignore[union-attr]
                     daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if demo.poll() is not None:
                pytest.fail("the demo stopped by itself")
            continue
        found = CONSOLE_LINE.match(line.rstrip("\n"))
        if found:
            return found
    pytest.fail("the demo printed no console address in time")


@pytest.mark.slow
def test_the_demo_prints_the_console_and_a_password_that_signs_in(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NOTIFIER_")}
    env["NOTIFIER_OUTBOX_DIR"] = str(tmp_path / "outbox")
    demo = subprocess.Popen([sys.executable, "-m", "notifier", "demo"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        address, name, password = _console_line(demo, timeout=60).groups()
        with httpx.Client(base_url=address, timeout=10, follow_redirects=True) as http:
            form = http.get("sign-in")
            assert form.status_code == 200
            token = _CSRF.search(form.text)
            assert token is not None
            wrong = http.post("sign-in", data={"csrf": token[1], "name": name,
                                               "password": password + "x", "next": "/console/"})
            assert "/console/sign-in" in str(wrong.url)  # a wrong password stays out
            token = _CSRF.search(http.get("sign-in").text)
            assert token is not None
            signed_in = http.post("sign-in", data={"csrf": token[1], "name": name,
                                                   "password": password, "next": "/console/"})
            assert signed_in.status_code == 200
            assert str(signed_in.url) == address
            assert "Vue d’ensemble" in signed_in.text or "Overview" in signed_in.text
            assert 'id="alerts"' in signed_in.text
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
    assert demo.returncode == 0
