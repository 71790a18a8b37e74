"""What every part of the store starts from: one Redis client, the key names, and the Lua
scripts it runs."""

from __future__ import annotations

from redis import Redis
from redis.commands.core import Script

from notifier.store.keys import Keys
from notifier.store.lua import load_script

# Redis, the client's type, is named from here by modules that hand a client to the store
# without calling Redis themselves.
__all__ = ["Redis", "RedisStore"]


class RedisStore:
    """Reads and writes the deployment's keys in one Redis.

    Parameters:
      redis: a redis-py client (the store reads its replies as bytes or text alike).
      keys: the deployment's key names.
    """

    def __init__(self, redis: Redis, *, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._scripts: dict[str, Script] = {}

    def script(self, name: str) -> Script:
        """``scripts/<name>.lua``, registered with this store's client on first use."""
        found = self._scripts.get(name)
        if found is None:
            found = self._scripts[name] = load_script(self.redis, name)
        return found
