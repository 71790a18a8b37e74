"""The README's settings table names real settings and gives their real defaults."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from notifier.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| (`NOTIFIER_[^|]*) \| ([^|]*) \|")
DEFAULT = re.compile(r"`([^`]*)`|\(none[^)]*\)|\bnone\b")
REQUIRED = {"NOTIFIER_REDIS_URL": "redis://127.0.0.1:1/0",
            "NOTIFIER_API_TOKEN": "readme-settings-api-token-01"}


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


def _table() -> dict[str, str | None]:
    """Each setting the table lists, with its default (None for "(none...)")."""
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


def _field(settings: Settings, name: str) -> object:
    return getattr(settings, name.removeprefix("NOTIFIER_").lower())


def test_the_table_names_only_real_settings() -> None:
    table = _table()
    known = {f"NOTIFIER_{name.upper()}" for name in Settings.model_fields}
    assert len(table) > 40
    assert sorted(set(table) - known) == []


def test_the_defaults_in_the_table_are_the_settings_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(os.environ):
        if name.startswith("NOTIFIER_"):
            monkeypatch.delenv(name)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    defaults = Settings()
    table = _table()
    said_none = [name for name, value in table.items() if value is None and name not in REQUIRED]
    assert [name for name in said_none if _field(defaults, name)] == []
    for name, default in table.items():
        if default is not None:
            monkeypatch.setenv(name, default)

    from_table = Settings()

    assert [name for name in table if _field(from_table, name) != _field(defaults, name)] == []
