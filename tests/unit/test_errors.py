"""The package's exceptions live in ``notifier/errors.py``, under one root, and its
docstring draws each of them (an AST scan finds an exception class declared anywhere else)."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from notifier import errors

PACKAGE = Path(__file__).resolve().parents[2] / "notifier"
# A base class named like an exception: Exception, ValueError, SystemExit, dramatiq.Retry.
_EXCEPTION_BASE = re.compile(r"(Error|Exception|Exit|Retry)$")

EXCEPTIONS = {name: value for name, value in vars(errors).items()
              if inspect.isclass(value) and issubclass(value, BaseException)
              and value.__module__ == errors.__name__}


def _exception_classes_outside() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                _EXCEPTION_BASE.search(ast.unparse(base)) for base in node.bases
            ):
                found.append(f"{path.relative_to(PACKAGE.parent)}: {node.name}")
    return found


def test_the_scan_sees_the_exceptions() -> None:
    assert {"NotifierError", "DeliveryError", "SettingsError"} <= EXCEPTIONS.keys()


def test_no_exception_class_is_declared_outside_the_errors_module() -> None:
    assert _exception_classes_outside() == []


def test_every_exception_but_the_settings_stop_shares_the_root() -> None:
    outside = [name for name, kind in EXCEPTIONS.items()
               if not issubclass(kind, errors.NotifierError)]
    assert outside == ["SettingsError"]
    assert issubclass(errors.SettingsError, SystemExit)
    assert not issubclass(errors.SettingsError, Exception)


def test_the_docstring_draws_every_exception() -> None:
    doc = errors.__doc__ or ""
    missing = [name for name in EXCEPTIONS if not re.search(rf"\b{name}\b", doc)]
    assert missing == []


def test_callers_still_catch_the_builtin_bases() -> None:
    assert issubclass(errors.InvalidEventError, ValueError)
    assert issubclass(errors.InvalidNumber, ValueError)
    assert issubclass(errors.TimelineError, ValueError)
    assert issubclass(errors.RedisServerMissing, RuntimeError)
