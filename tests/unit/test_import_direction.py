"""Which way imports go, read from the source (an AST scan; nothing is imported).

- The pure core (``notifier/planning/``, ``notifier/messages/``,
  ``notifier/inbound/keywords.py``, ``notifier/sending_window.py``,
  ``notifier/responses/``, ``notifier/patient_text.py``) reaches nothing of the
  edges: not the store, the channels, the web, the actors, the send step or the steps of
  an incoming text, and none of the libraries that talk to Redis, Dramatiq, Twilio, SMTP
  or HTTP. The rule is transitive: a core module may not reach an edge through a helper
  module either (package ``__init__`` files included); and no core module names an edge
  in its own imports, whatever the exceptions below.
- Imports run one way: taking each package (``notifier/messages/``) and each top-level
  module (``notifier/settings.py``) as one node, their imports form no cycle; and along
  :data:`LAYERS` (sending window, settings, planning, messages, responses, inbound) no
  module imports one of a later layer.
- The send step (``notifier.sending``) names neither ``redis`` nor ``dramatiq`` in its
  imports: its reads and writes are the store's, its retries the actors'.
- No library module imports a process's entry module (``notifier.cli``, ``notifier.worker``,
  ...): entry modules build processes; everything else is built by them.

Imports inside functions and under ``TYPE_CHECKING`` count like any other.

:data:`KNOWN_EXCEPTIONS` lists the imports that break these rules today, each with what
would remove it; the list may only shrink (a listed import that is gone fails the test
until it leaves the list).
"""

from __future__ import annotations

import ast
import graphlib
import itertools
from collections.abc import Collection, Iterator, Mapping
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "notifier"

CORE = (
    "notifier.planning", "notifier.messages", "notifier.inbound.keywords",
    "notifier.sending_window", "notifier.responses", "notifier.patient_text",
)
EDGES = (
    "notifier.store", "notifier.channels", "notifier.web", "notifier.actors",
    "notifier.sending", "notifier.inbound.incoming_sms", "redis", "dramatiq", "twilio", "fastapi",
    "starlette", "uvicorn", "aiosmtplib",
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

# The core's layers, bottom up: a module never imports one of a later layer.
LAYERS = (
    ("notifier.sending_window",),  # the value type both the settings and planning read
    ("notifier.settings",),
    ("notifier.planning",),
    ("notifier.messages",),
    ("notifier.responses",),  # patients' answers to questions
    ("notifier.inbound",),  # keywords, and the answers rendered from the catalogue
)

# (importing module, imported module) -> why it is still there and what removes it.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
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
    assert "notifier.inbound.incoming_sms" not in CORE_MODULES
    assert {"notifier.store.schedule", "redis"} <= imports_of("notifier.scheduler")
    assert all(name in MODULES for name in PROCESSES)


@pytest.mark.parametrize("module", CORE_MODULES)
def test_the_core_reaches_no_edge(module: str) -> None:
    reached = [" -> ".join(chain) for chain in edges_reached(module)]
    assert not reached, f"{module} reaches the edges:\n" + "\n".join(reached)


def test_the_walk_finds_edges_directly_and_through_helpers() -> None:
    assert ["notifier.local_redis", "redis"] in list(edges_reached("notifier.local_redis"))
    through_helper = list(edges_reached("notifier.demo"))
    assert ["notifier.demo", "notifier.local_redis", "redis"] in through_helper


def test_the_send_step_imports_neither_redis_nor_dramatiq() -> None:
    named = sorted(imported for imported in imports_of("notifier.sending")
                   if _within(imported, ("redis", "dramatiq")))
    assert not named, f"notifier.sending imports {', '.join(named)}"


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


@pytest.mark.parametrize("module", CORE_MODULES)
def test_no_core_module_names_an_edge(module: str) -> None:
    named = sorted(imported for imported in imports_of(module) if _within(imported, EDGES))
    assert not named, f"{module} imports {', '.join(named)}"


def _layer(module: str) -> int | None:
    for level, prefixes in enumerate(LAYERS):
        if _within(module, prefixes):
            return level
    return None


LAYERED_MODULES = sorted(name for name in MODULES if _layer(name) is not None)


@pytest.mark.parametrize("module", LAYERED_MODULES)
def test_no_module_imports_back_up(module: str) -> None:
    level = _layer(module)
    assert level is not None
    upward = sorted(
        imported for imported in imports_of(module)
        if (above := _layer(imported)) is not None and above > level
    )
    assert not upward, f"{module} imports {', '.join(upward)}, of a later layer"


def _node(module: str) -> str:
    """The package or top-level module ``module`` belongs to (``notifier.web.app`` ->
    ``notifier.web``)."""
    return ".".join(module.split(".")[:2])


def package_imports(
    *, exceptions: Collection[tuple[str, str]] = KNOWN_EXCEPTIONS.keys()
) -> dict[str, set[str]]:
    """Node -> the other nodes its modules import (ours only), but the ``exceptions``."""
    graph: dict[str, set[str]] = {_node(module): set() for module in MODULES}
    for module in MODULES:
        for imported in imports_of(module):
            if (imported in MODULES and _node(imported) != _node(module)
                    and (module, imported) not in exceptions):
                graph[_node(module)].add(_node(imported))
    return graph


def import_cycle(graph: Mapping[str, Collection[str]]) -> list[str]:
    """One cycle of ``graph``, each node importing the next (the first node repeated at
    the end), or []."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as cycle:
        # graphlib lists each node before the one that depends on it: the importer after.
        return list(reversed(cycle.args[1]))
    return []


def _imports_between(importer: str, imported: str) -> list[str]:
    return sorted(
        f"{module} -> {name}" for module in MODULES if _node(module) == importer
        for name in imports_of(module)
        if name in MODULES and _node(name) == imported
        and (module, name) not in KNOWN_EXCEPTIONS
    )


def test_the_cycle_check_finds_a_cycle() -> None:
    assert import_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    found = import_cycle(graph)
    assert set(found) == {"a", "b", "c"} and found[0] == found[-1]
    assert all(imported in graph[importer] for importer, imported in itertools.pairwise(found))
    assert {"notifier.planning", "notifier.settings"} <= package_imports().keys()


def test_packages_import_one_way() -> None:
    cycle = import_cycle(package_imports())
    steps = [
        line for importer, imported in itertools.pairwise(cycle)
        for line in _imports_between(importer, imported)
    ]
    assert not cycle, "imports go round: " + " -> ".join(cycle) + "\n" + "\n".join(steps)
