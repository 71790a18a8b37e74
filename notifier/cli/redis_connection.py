"""The Redis connection of an operator command, and how the command stops without it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from notifier.errors import RedisUnreachable
from notifier.settings import Settings

if TYPE_CHECKING:
    from redis import Redis


@contextmanager
def redis_connection(
    settings: Settings, *, needed_by: str, say_nothing_changed: bool
) -> Iterator[Redis]:
    """A client of the deployment's Redis (:func:`connect_redis`), closed on the way out.

    ``needed_by`` names the command in the error when the setting is missing. A Redis error
    in the block becomes :class:`RedisUnreachable`, naming the error's type and, with
    ``say_nothing_changed``, telling the operator that nothing changed.
    """
    from redis import RedisError

    from notifier.store.connect import connect_redis

    redis = connect_redis(settings, needed_by=needed_by)
    try:
        yield redis
    except RedisError as exc:
        outcome = "; nothing changed" if say_nothing_changed else ""
        raise RedisUnreachable(f"cannot reach Redis ({type(exc).__name__}){outcome}") from exc
    finally:
        redis.close()
