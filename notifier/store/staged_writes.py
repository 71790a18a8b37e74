"""Write commands kept to be run later, all at once, by a Lua script.

The store's ``stage`` methods (:meth:`~notifier.store.schedule.Schedule.stage_changes`,
:meth:`~notifier.store.history.History.stage`) queue their writes on whatever they are
given: a redis-py pipeline, or :class:`StagedWrites`, which builds each command with
redis-py's own command methods and keeps it. A script then runs them after a check, in
the same step (``intake_apply``, :mod:`notifier.store.intake`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from redis.commands.core import DataAccessCommands


class StagedWrites(DataAccessCommands):
    """The write commands queued on it (``writes.hset(...)``, ``writes.zadd(...)``...), in
    order, each a tuple of the command's name and arguments; none is sent anywhere."""

    # What redis-py's typing asks of a synchronous client; no event is ever dispatched.
    _is_async_client: Literal[False] = False
    _event_dispatcher: Any = None

    def __init__(self) -> None:
        self.commands: list[tuple[Any, ...]] = []

    def execute_command(self, *args: Any, **options: Any) -> StagedWrites:
        # The options (reply parsing, key hints) only matter to a reply, and there is none.
        self.commands.append(args)
        return self

    def flat(self) -> Iterator[Any]:
        """Each command as its length then its name and arguments, one after another: how
        a script reads them from ARGV."""
        for command in self.commands:
            yield len(command)
            yield from command
