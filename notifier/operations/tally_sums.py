"""Sums of finished hours' tallies, kept while those very hours are."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence

from notifier.operations.hourly_counts import ParsedHour, Tally, add_tally


class TallySums:
    """Sums of many hours' tallies, kept while those very hours are (a week's finished hours
    change once an hour, yet adding up their tallies costs more than reading them).

    An entry holds the :class:`ParsedHour` objects it summed: an hour parsed again is a new
    object, so a sum is never used for hours it did not add.

    Parameters:
      size: how many sums to keep (one per period and clinic looked at).
    """

    def __init__(self, *, size: int = 32) -> None:
        self.size = size
        self._sums: OrderedDict[tuple[Hashable, ...], tuple[tuple[ParsedHour, ...], Tally]] = (
            OrderedDict())
        self._lock = threading.Lock()

    def total(self, hours: Sequence[ParsedHour], location: str | None) -> Tally:
        """The sum of ``hours``' tallies for ``location`` (shared: do not change it)."""
        # The entry keeps its hours alive, so their ids stay theirs while it lives.
        name = (location, *map(id, hours))
        with self._lock:
            known = self._sums.get(name)
            if known is not None:
                self._sums.move_to_end(name)
                return known[1]
        total: Tally = {}
        for hour in hours:
            add_tally(total, hour.tally(location))
        with self._lock:
            self._sums[name] = (tuple(hours), total)
            while len(self._sums) > self.size:
                self._sums.popitem(last=False)
        return total


finished_sums = TallySums()
