"""What a piece of the gateway asks of Redis, as Redis's MONITOR shows it."""

from __future__ import annotations

from collections.abc import Callable

import redis


def commands_sent(redis_url: str, action: Callable[[], object], *,
                  by: redis.Redis | None = None) -> list[str]:
    """The names of the commands the Redis at ``redis_url`` received while ``action`` ran,
    as MONITOR shows them: each is a round trip of its own unless pipelined. Left out: the
    commands a Lua script runs inside Redis, and this function's own. ``by``: only the
    commands of that client (a client whose one connection is open and reused)."""
    port = None if by is None else int(by.client_info()["addr"].rsplit(":", 1)[1])
    done = "commands-sent-until-here"
    watcher = redis.Redis.from_url(redis_url)
    seen = []
    with watcher.monitor() as monitor:
        action()
        watcher.echo(done)
        while (command := monitor.next_command())["command"] != f"ECHO {done}":
            seen.append(command)
    watcher.close()
    return [
        seen_command["command"].split(" ", 1)[0].upper() for seen_command in seen
        if seen_command["client_type"] != "lua"
        and seen_command["client_port"] != command["client_port"]
        and (port is None or int(seen_command["client_port"]) == port)
    ]
