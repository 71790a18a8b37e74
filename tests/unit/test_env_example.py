"""config/env.example lists every setting with its default, as the README says."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from notifier.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "env.example"
CONNECTIONS = {"NOTIFIER_REDIS_URL", "NOTIFIER_API_TOKEN", "NOTIFIER_METRICS_TOKEN"}
ASSIGNMENT = re.compile(r"^(#\s*)?(NOTIFIER_[A-Z0-9_]+)=(.*)$")


def _assignments() -> dict[str, tuple[bool, str]]:
    """Each variable the file names: whether it is set (not commented out), and its value."""
    found: dict[str, tuple[bool, str]] = {}
    for line in EXAMPLE.read_text().splitlines():
        match = ASSIGNMENT.match(line)
        if match:
            commented, name, raw = match.groups()
            found[name] = (commented is None, " ".join(shlex.split(raw)))
    return found


def test_every_setting_is_listed() -> None:
    listed = _assignments()
    missing = [f"NOTIFIER_{name.upper()}" for name in Settings.model_fields
               if f"NOTIFIER_{name.upper()}" not in listed]
    assert missing == []


def test_the_values_set_there_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("NOTIFIER_"):
            monkeypatch.delenv(name)
    set_there = {name: value for name, (active, value) in _assignments().items() if active}
    assert set(set_there) >= CONNECTIONS
    defaults = Settings(redis_url=set_there["NOTIFIER_REDIS_URL"],
                        api_token=set_there["NOTIFIER_API_TOKEN"],
                        metrics_token=set_there["NOTIFIER_METRICS_TOKEN"])
    for name, value in set_there.items():
        monkeypatch.setenv(name, value)

    from_file = Settings()

    differing = [name for name in Settings.model_fields
                 if getattr(from_file, name) != getattr(defaults, name)]
    assert differing == []
