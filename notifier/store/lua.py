"""The Lua scripts the gateway runs in Redis, one ``scripts/<name>.lua`` file each.

Each script runs atomically in Redis; its comment says what it takes (KEYS, ARGV) and
returns. redis-py runs a registered script by its SHA1 and loads it again where Redis
does not know it (after a restart, on another server).
"""

from __future__ import annotations

import functools
from importlib.resources import files

from redis import Redis
from redis.commands.core import Script


@functools.cache
def script_source(name: str) -> str:
    """The text of ``scripts/<name>.lua``, as shipped in the package."""
    return (files(__package__) / "scripts" / f"{name}.lua").read_text(encoding="utf-8")


def load_script(redis: Redis, name: str) -> Script:
    """``scripts/<name>.lua`` registered with ``redis`` (a pipeline may run it too)."""
    return redis.register_script(script_source(name))
