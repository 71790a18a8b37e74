"""config/env.example lists every setting with its default, as the README says; the
README's own settings table names real settings and gives their real defaults."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable
from pathlib import Path

import pytest

from notifier.settings import Settings

CHECKOUT = Path(__file__).resolve().parents[2]
EXAMPLE = CHECKOUT / "config" / "env.example"
README = CHECKOUT / "README.md"
CONNECTIONS = {"NOTIFIER_REDIS_URL", "NOTIFIER_API_TOKEN", "NOTIFIER_METRICS_TOKEN"}
ASSIGNMENT = re.compile(r"^(#\s*)?(NOTIFIER_[A-Z0-9_]+)=(.*)$")
# A row of the README's settings table: its names, then its defaults.
ROW = re.compile(r"^\| (`NOTIFIER_[^|]*) \| ([^|]*) \|")
DEFAULT = re.compile(r"`([^`]*)`|\(none[^)]*\)|\bnone\b")
# What the README's table leaves unset but a process needs; any valid value will do.
REQUIRED = {"NOTIFIER_REDIS_URL": "redis://127.0.0.1:1/0",
            "NOTIFIER_API_TOKEN": "readme-settings-api-token-01"}


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


def _field(settings: Settings, name: str) -> object:
    return getattr(settings, name.removeprefix("NOTIFIER_").lower())


def _differing_from_defaults(monkeypatch: pytest.MonkeyPatch, values: dict[str, str],
                             *, connections: Iterable[str]) -> list[str]:
    """The settings whose value, with ``values`` set, is not their default (the
    ``connections`` set in both cases)."""
    for name in list(os.environ):
        if name.startswith("NOTIFIER_"):
            monkeypatch.delenv(name)
    for name in connections:
        monkeypatch.setenv(name, values[name])
    defaults = Settings()
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    from_values = Settings()
    return [name for name in Settings.model_fields
            if getattr(from_values, name) != getattr(defaults, name)]


def test_the_values_set_there_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    set_there = {name: value for name, (active, value) in _assignments().items() if active}
    assert set(set_there) >= CONNECTIONS
    assert _differing_from_defaults(monkeypatch, set_there, connections=CONNECTIONS) == []


def _names(cell: str) -> list[str]:
    """The settings a row names: in "NOTIFIER_SMS_PROVIDER, _VOICE_PROVIDER" a name that
    starts with ``_`` replaces as many of the first name's last words as it has."""
    names: list[str] = []
    for part in re.findall(r"`([^`]+)`", cell):
        if part.startswith("NOTIFIER_"):
            names.append(part)
        else:
            names.append(names[0].rsplit("_", part.count("_"))[0] + part)
    return names


def _readme_table() -> dict[str, str | None]:
    """Each setting the README's table lists, with its default (None for "(none...)")."""
    rows: dict[str, str | None] = {}
    for line in README.read_text().splitlines():
        row = ROW.match(line)
        if row:
            names = _names(row.group(1))
            defaults = [found.group(1) for found in DEFAULT.finditer(row.group(2))]
            if len(defaults) == 1:  # one default for every name in the row
                defaults *= len(names)
            assert len(names) == len(defaults), line
            rows.update(zip(names, defaults, strict=True))
    return rows


def test_the_readme_table_names_only_real_settings() -> None:
    table = _readme_table()
    known = {f"NOTIFIER_{name.upper()}" for name in Settings.model_fields}
    assert len(table) > 40
    assert sorted(set(table) - known) == []


def test_the_defaults_in_the_readme_table_are_the_settings_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = _readme_table()
    given = {name: value for name, value in table.items() if value is not None}

    assert _differing_from_defaults(monkeypatch, {**given, **REQUIRED},
                                    connections=REQUIRED) == []
    said_none = [name for name, value in table.items() if value is None and name not in REQUIRED]
    # The names said to have none are left unset: each still holds its default here.
    assert [name for name in said_none if _field(Settings(), name)] == []
