"""``notifier demo``: the whole gateway on one machine, on embedded defaults.

Starts a private redis-server (unless NOTIFIER_REDIS_URL is set), the web app, a worker and
a scheduler as separate processes, posts a sample clinic's appointment events through the
real HTTP door, and prints each message as it lands in the outbox. It also prints the
operators' console's address, with a name and a password made at start, so that a
newcomer can open it at once. Ctrl-C stops everything.

So that a person sees every kind of message within a minute, whatever the hour, the demo
opens all sending windows around the clock, shortens the no-show delay to seconds and
books appointments one and three days ahead plus a few seconds, so that their reminders
fall due almost at once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notifier.local_redis import INSTALL_HINT, RedisServer, free_port
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.settings import Settings

DEMO_SETTINGS = {
    "NOTIFIER_WINDOW_SMS": "always",
    "NOTIFIER_WINDOW_VOICE": "always",
    "NOTIFIER_WINDOW_EMAIL": "always",
    "NOTIFIER_NO_SHOW_DELAY": "20s",
    "NOTIFIER_NO_SHOW_DEADLINE": "10m",
    "NOTIFIER_SCHEDULER_POLL": "1s",
}
DEMO_OPERATOR = "demo"


def main(settings: Settings, *, stop_after: float | None = None) -> int:
    """Run the demo until Ctrl-C (or for ``stop_after`` seconds); returns an exit code."""
    if not settings.redis_configured and not _ensure_redis_server():
        return 2
    outbox = settings.outbox_dir.resolve()
    outbox.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with tempfile.TemporaryDirectory(prefix="notifier-demo-") as scratch:
        redis_server = None
        private: dict[str, str] = {}
        if not settings.redis_configured:
            redis_server = RedisServer(Path(scratch) / "redis")
            redis_server.start()
            private["NOTIFIER_REDIS_URL"] = redis_server.url
            print(f"started a private redis-server on port {redis_server.port}")
        token = settings.api_token.get_secret_value() if settings.api_token else _new_token()
        port = free_port()
        operator = DemoOperator.new()
        env = {**os.environ, **DEMO_SETTINGS, **private,
               "NOTIFIER_API_TOKEN": token, "NOTIFIER_OUTBOX_DIR": str(outbox),
               **operator.settings()}
        processes = _start_processes(env, port)
        try:
            _wait_for_web(port, processes)
            print(f"console: http://127.0.0.1:{port}/console/  (sign in as "
                  f"{operator.name}, password {operator.password})")
            _post_events(port, token, sample_events(dt.datetime.now(dt.UTC)))
            print(f"messages land in {outbox} (one .txt per message, .html for email)")
            print("watching the outbox; press Ctrl-C to stop")
            deadline = None if stop_after is None else time.monotonic() + stop_after
            _watch_outbox(outbox, stop, deadline, processes)
        finally:
            _stop_processes(processes)
            if redis_server is not None:
                redis_server.stop()
    print("demo stopped")
    return 0


@dataclass(frozen=True)
class DemoOperator:
    """The console's one operator while the demo runs: an admin who sees every clinic,
    with a password made at start and never stored (only its hash, in the processes'
    environment).

    Parameters:
      name: what to type to sign in.
      password: the password printed for the person running the demo.
    """

    name: str
    password: str

    @classmethod
    def new(cls) -> DemoOperator:
        return cls(DEMO_OPERATOR, secrets.token_urlsafe(12))

    def settings(self) -> dict[str, str]:
        """``NOTIFIER_OPERATORS`` with this operator, and a session key made now."""
        from notifier.web.console.passwords import hash_password

        return {"NOTIFIER_OPERATORS": f"{self.name}:admin:*:{hash_password(self.password)}",
                "NOTIFIER_CONSOLE_SECRET_KEY": secrets.token_urlsafe(32)}


def _ensure_redis_server() -> bool:
    if shutil.which("redis-server"):
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("redis-server is missing; installing it with apt-get")
        done = subprocess.run(
            ["sh", "-c", "apt-get update -qq && apt-get install -y -qq redis-server"],
            check=False,
        )
        if done.returncode == 0 and shutil.which("redis-server"):
            return True
    print(INSTALL_HINT, file=sys.stderr)
    return False


def _new_token() -> str:
    return secrets.token_urlsafe(24)


def _start_processes(env: dict[str, str], port: int) -> dict[str, subprocess.Popen[bytes]]:
    python = sys.executable
    commands = {
        "web": [python, "-m", "notifier", "web", "--host", "127.0.0.1", "--port", str(port)],
        "worker": [python, "-m", "dramatiq", "notifier.worker", "--processes", "1",
                   "--threads", "4"],
        "scheduler": [python, "-m", "notifier", "scheduler"],
    }
    # Each process leads its own group so that Ctrl-C in this terminal reaches only the
    # demo, which then signals each child itself: for the worker, the Dramatiq master
    # only, since a SIGTERM sent to every worker process at once can hang one.
    return {
        name: subprocess.Popen(command, env=env, start_new_session=True)
        for name, command in commands.items()
    }


def _wait_for_web(port: int, processes: dict[str, subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise SystemExit(f"the {name} process stopped at start (exit {process.returncode})")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise SystemExit("the web process did not answer /healthz within 30 s")


def _post_events(port: int, token: str, events: list[dict[str, Any]]) -> None:
    for event in events:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/events",
            data=json.dumps(event).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
        planned = ", ".join(f"{p['kind']}/{p['channel']}" for p in body.get("planned", []))
        print(f"posted {event['type']} for {event['appointment']['reference']}: "
              f"{body['status']} ({planned or 'nothing to send'})")


def _watch_outbox(
    outbox: Path,
    stop: threading.Event,
    deadline: float | None,
    processes: dict[str, subprocess.Popen[bytes]],
) -> None:
    seen: set[Path] = set()
    while not stop.is_set():
        for path in sorted(outbox.glob("*/*.txt")):
            if path not in seen:
                seen.add(path)
                print(f"  new message: {path.relative_to(outbox)}")
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"the {name} process stopped (exit {process.returncode})", file=sys.stderr)
                return
        if deadline is not None and time.monotonic() > deadline:
            return
        stop.wait(0.5)


def _stop_processes(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def sample_events(now: dt.datetime) -> list[dict[str, Any]]:
    """The demo clinic's events, timed from ``now`` so that reminders fall due at once."""
    zone = SAMPLE_LOCATION.zone
    location = SAMPLE_LOCATION.model_dump(mode="json")

    def start_in(delta: dt.timedelta) -> str:
        local = (now + delta).astimezone(zone).replace(microsecond=0, tzinfo=None)
        return local.isoformat()

    def event(number: int, kind: str, version: int, appointment: dict[str, Any],
              **extra: Any) -> dict[str, Any]:
        return {"event_id": f"demo-{now:%Y%m%d%H%M%S}-{number}", "type": f"appointment.{kind}",
                "version": version, "occurred_at": now.isoformat(),
                "appointment": {**appointment, **extra}}

    def appointment(reference: str, start: str, patient: dict[str, Any]) -> dict[str, Any]:
        return {"reference": reference, "start": start, "duration_minutes": 15,
                "professional_name": "Dre Catherine Roy", "location": location,
                "patient": patient}

    emilie = {"first_name": "Émilie", "last_name": "Tremblay", "language": "fr",
              "mobile_phone": "+15145550188", "email": "emilie.tremblay@example.org",
              "modes": ["sms", "email"]}
    sarah = {"first_name": "Sarah", "last_name": "Thompson", "language": "en",
             "mobile_phone": "+15145550177", "home_phone": "+15145550166",
             "email": "sarah.thompson@example.org", "modes": ["email", "sms", "voice"]}
    marc = {"first_name": "Marc", "last_name": "Gagnon", "language": "fr",
            "email": "marc.gagnon@example.org", "modes": ["email"]}
    one_day = appointment("0000000101", start_in(dt.timedelta(days=1, seconds=25)), emilie)
    three_days = appointment("0000000102", start_in(dt.timedelta(days=3, seconds=40)), sarah)
    moved = appointment("0000000103", start_in(dt.timedelta(days=5)), marc)
    missed = appointment("0000000104", start_in(dt.timedelta(hours=-2)), marc)
    return [
        event(1, "booked", 1, one_day),
        event(2, "booked", 1, three_days),
        event(3, "booked", 1, moved),
        event(4, "modified", 2, {**moved, "start": start_in(dt.timedelta(days=6))}),
        event(5, "cancelled", 3, {**moved, "start": start_in(dt.timedelta(days=6))},
              status="cancelled"),
        event(6, "booked", 1, missed),
        event(7, "attendance_changed", 2, missed, attendance="absent"),
    ]
