"""The gateway's worker module with its Redis round trips counted
(:mod:`bench.round_trips`): ``dramatiq bench.round_trip_worker``, for ``delivery_bench``."""

from bench.round_trips import install_from_environment

install_from_environment()

from notifier.worker import *  # noqa: E402,F403  the broker and actors, declared on import
