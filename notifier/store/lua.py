"""The Lua scripts the gateway runs in Redis, one ``scripts/<name>.lua`` file each.

Each script runs atomically in Redis; its comment says what it takes (KEYS, ARGV) and
returns. redis-py runs a registered script by its SHA1 and loads it again where Redis
does not know it (after a restart, on another server).

Scripts cannot call one another, so a step two scripts share (moving a delivery record
forward, reserving a rate-limit slot) lives once in ``scripts/lib/<name>.lua`` as a local
function, and a script takes it in with a line ``--! include <name>``, replaced by that
file's text when the script is read (an included file may include another).
"""

from __future__ import annotations

import functools
import re
from importlib.resources import files

from redis import Redis
from redis.commands.core import Script

_INCLUDE = re.compile(r"^--! include (\w+)$", re.M)


@functools.cache
def script_source(name: str) -> str:
    """The text of ``scripts/<name>.lua``, as shipped in the package, its includes
    replaced by the text of ``scripts/lib/<included>.lua`` (each taken in once, where it
    is first named; an included file may name others)."""
    return _expand(_read(f"{name}.lua"), set())


def _expand(source: str, taken: set[str]) -> str:
    def include(found: re.Match[str]) -> str:
        name = found[1]
        if name in taken:
            return ""
        taken.add(name)
        return _expand(_read(f"lib/{name}.lua"), taken).rstrip("\n")

    return _INCLUDE.sub(include, source)


def _read(path: str) -> str:
    return (files(__package__) / "scripts" / path).read_text(encoding="utf-8")


def load_script(redis: Redis, name: str) -> Script:
    """``scripts/<name>.lua`` registered with ``redis`` (a pipeline may run it too)."""
    return redis.register_script(script_source(name))
