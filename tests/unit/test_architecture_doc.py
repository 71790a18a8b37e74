"""``docs/architecture.md`` keeps naming what exists: its file paths, settings, Redis keys
and Lua scripts are checked against the code, so a rename or a new script shows here."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from notifier.settings import Settings
from notifier.store.keys import Keys

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
SCRIPTS = ROOT / "notifier" / "store" / "scripts"


def _script_named(call: ast.Call) -> str | None:
    """The script a call loads by name: ``load_script(redis, "<name>")``, or a store's
    ``self.script("<name>")``."""
    func, args = call.func, call.args
    if isinstance(func, ast.Name) and func.id == "load_script" and len(args) == 2:
        name = args[1]
    elif isinstance(func, ast.Attribute) and func.attr == "script" and len(args) == 1:
        name = args[0]
    else:
        return None
    return name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) else None


def _scripts() -> list[tuple[str, str]]:
    """(file, script name) of every Lua script the package loads into Redis."""
    found = set()
    for path in sorted((ROOT / "notifier").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and (name := _script_named(node)) is not None:
                found.add((path.relative_to(ROOT).as_posix(), name))
    return sorted(found)


def _key_stems() -> list[str]:
    """The fixed start of every key :class:`Keys` builds (``<prefix>:appt:``)."""
    keys = Keys("<prefix>")
    stems = []
    for name, member in inspect.getmembers(Keys):
        if name.startswith("_") or name == "schedules":
            continue
        if callable(member):
            # Every argument a key takes is a variable part: the stem ends at the first.
            arguments = len(inspect.signature(member).parameters) - 1
            value = getattr(keys, name)(*[" "] * arguments)
        else:
            value = getattr(keys, name)
        if isinstance(value, str):
            stems.append(value.split(" ")[0])
    return stems


def test_the_scan_finds_what_it_checks() -> None:
    assert ("notifier/store/schedule.py", "schedule_claim") in _scripts()
    assert "<prefix>:delivery:" in _key_stems()


@pytest.mark.parametrize("path", sorted(set(re.findall(r"`((?:notifier|tests|config|templates)"
                                                       r"/[\w/.-]+?)`", DOC))))
def test_every_path_named_exists(path: str) -> None:
    assert (ROOT / path.split("/<")[0]).exists(), f"{path} is named in the doc but missing"


@pytest.mark.parametrize(("path", "script"), _scripts())
def test_every_lua_script_is_in_the_table(path: str, script: str) -> None:
    assert f"| `{script}` | `{path}` |" in DOC
    assert (SCRIPTS / f"{script}.lua").is_file(), f"{path} loads {script}, which is missing"


@pytest.mark.parametrize("script", sorted(p.stem for p in SCRIPTS.glob("*.lua")))
def test_every_lua_file_is_loaded(script: str) -> None:
    assert script in {name for _, name in _scripts()}, f"{script}.lua is loaded by no module"


@pytest.mark.parametrize("stem", _key_stems())
def test_every_key_is_in_the_key_map(stem: str) -> None:
    assert f"`{stem}" in DOC


@pytest.mark.parametrize("setting", sorted(set(re.findall(r"NOTIFIER_([A-Z_]+[A-Z])", DOC))))
def test_every_setting_named_exists(setting: str) -> None:
    assert setting.lower() in Settings.model_fields
