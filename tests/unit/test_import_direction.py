"""Which way imports go, read from the source (an AST scan; nothing is imported).

- The pure core (``notifier/planning/``, ``notifier/messages/``,
  ``notifier/inbound/keywords.py``) reaches nothing of the edges: not the store, the
  channels, the web, the actors or the send step, and none of the libraries that talk to
  Redis, Dramatiq, Twilio, SMTP or HTTP. The rule is transitive: a core module may not
  reach an edge through a helper module either (package ``__init__`` files included).
- No library module imports a process's entry module (``notifier.cli``, ``notifier.worker``,
  ...): entry modules build processes; everything else is built by them.

Imports inside functions and under ``TYPE_CHECKING`` count like any other.

:data:`KNOWN_EXCEPTIONS` lists the imports that break these rules today, each with what
would remove it; the list may only shrink (a listed import that is gone fails the test
until it leaves the list).
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "notifier"

CORE = ("notifier.planning", "notifier.messages", "notifier.inbound.keywords")
EDGES = (
    "notifier.store", "notifier.channels", "notifier.web", "notifier.actors",
    "notifier.sending", "redis", "dramatiq", "twilio", "fastapi", "starlette", "uvicorn",
    "aiosmtplib",
)
PROCESSES = (
    "notifier.__main__",  # python -m notifier
    "notifier.cli",  # the notifier command: dispatches to every process
    "notifier.demo",  # notifier demo
    "notifier.worker",  # dramatiq notifier.worker: builds the broker at import
    "notifier.scheduler",  # notifier scheduler
    "notifier.web.app",  # create_app: the web process's application
    "notifier.web.server",  # notifier web: uvicorn with its connection guard
)

# (importing module, imported module) -> why it is still there and what removes it.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("notifier.destinations", "notifier.channels.test_recipients"):
        "the destination policy (reached from planning.send_check) reads TEST_PHONES from "
        "the channel module, which imports the SMTP client; move TEST_PHONES to a core module",
    ("notifier.web", "notifier.web.app"):
        "the web package re-exports create_app, so importing any notifier.web module loads "
        "the app and every route; callers should import create_app from notifier.web.app",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _resolve(name: str) -> str:
    """Our longest module ``name`` names (``notifier.x.Thing`` -> ``notifier.x``); another
    library's top-level package."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return parts[0]


@cache
def imports_of(module: str) -> frozenset[str]:
    """Every module ``module`` names in an import (ours by module name, others by
    top-level package)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(_resolve(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            found.add(_resolve(source))
            found.update(_resolve(f"{source}.{alias.name}") for alias in node.names)
    return frozenset(found - {module})


def _packages(module: str) -> list[str]:
    """The packages Python runs before ``module`` (``notifier``, ``notifier.web`` for
    ``notifier.web.app``)."""
    parts = module.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]


def edges_reached(
    start: str, *, exceptions: Collection[tuple[str, str]] = KNOWN_EXCEPTIONS.keys()
) -> Iterator[list[str]]:
    """Each edge module ``start`` reaches, as the chain of imports that leads to it,
    walking every import but the listed ``exceptions``."""
    came_from: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        module = queue.pop()
        if _within(module, EDGES):
            chain = [module]
            while (step := came_from[chain[-1]]) is not None:
                chain.append(step)
            yield chain[::-1]
            continue
        if module not in MODULES:
            continue
        loaded = [*_packages(module), *(imported for imported in sorted(imports_of(module))
                                        if (module, imported) not in exceptions)]
        for imported in loaded:
            if imported not in came_from:
                came_from[imported] = module
                queue.append(imported)


CORE_MODULES = sorted(name for name in MODULES if _within(name, CORE))


def test_the_scan_sees_the_package() -> None:
    assert "notifier.planning.plan" in CORE_MODULES
    assert "notifier.inbound.keywords" in CORE_MODULES
    assert "notifier.inbound.optouts" not in CORE_MODULES
    assert {"notifier.store.schedule", "redis"} <= imports_of("notifier.scheduler")
    assert all(name in MODULES for name in PROCESSES)


@pytest.mark.parametrize("module", CORE_MODULES)
def test_the_core_reaches_no_edge(module: str) -> None:
    reached = [" -> ".join(chain) for chain in edges_reached(module)]
    assert not reached, f"{module} reaches the edges:\n" + "\n".join(reached)


def test_the_walk_finds_edges_directly_and_through_helpers() -> None:
    direct = list(edges_reached("notifier.operations.queues"))
    assert ["notifier.operations.queues", "redis"] in direct
    through_helper = list(edges_reached("notifier.planning.send_check", exceptions=()))
    assert ["notifier.planning.send_check", "notifier.destinations",
            "notifier.channels.test_recipients"] in through_helper


def test_no_library_module_imports_a_process_module() -> None:
    found = [
        f"{module} imports {imported}"
        for module in MODULES if not _within(module, PROCESSES)
        for imported in sorted(imports_of(module))
        if imported in PROCESSES and (module, imported) not in KNOWN_EXCEPTIONS
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(("importer", "imported"), sorted(KNOWN_EXCEPTIONS))
def test_each_known_exception_is_still_there(importer: str, imported: str) -> None:
    assert imported in imports_of(importer), (
        f"{importer} no longer imports {imported}: remove it from KNOWN_EXCEPTIONS"
    )
