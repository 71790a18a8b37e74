"""The Lua scripts the gateway runs in Redis, one ``scripts/<name>.lua`` file each.

Each script runs atomically in Redis; its comment says what it takes (KEYS, ARGV) and
returns. redis-py runs a registered script by its SHA1 and loads it again where Redis
does not know it (after a restart, on another server).

Scripts cannot call one another, so a step two scripts share (moving a delivery record
forward, reserving a rate-limit slot) lives once in ``scripts/lib/<name>.lua`` as a local
function, and a script takes it in with a line ``--! include <name>``, replaced by that
file's text when the script is read.
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
    replaced by the text of ``scripts/lib/<included>.lua``."""
    source = _read(f"{name}.lua")
    return _INCLUDE.sub(lambda found: _read(f"lib/{found[1]}.lua").rstrip("\n"), source)


def _read(path: str) -> str:
    return (files(__package__) / "scripts" / path).read_text(encoding="utf-8")


def load_script(redis: Redis, name: str) -> Script:
    """``scripts/<name>.lua`` registered with ``redis`` (a pipeline may run it too)."""
    return redis.register_script(script_source(name))
