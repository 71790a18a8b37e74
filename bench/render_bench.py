"""Benchmark: the CPU one message's rendering costs, from the lean context (the values its
templates read, as a send renders) next to the whole context (every value computed, as
before) in the same run.

Every kind x language of each channel, the sample appointment; one thread. Rounds
alternate the two and the median round of each is reported. No Redis: rendering reads
none.

    PYTHONPATH=. python bench/render_bench.py             # 300 passes, 5 rounds
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Iterator
from unittest import mock

import jinja2

from notifier.domain import Channel, Kind, Lang
from notifier.messages import catalogue
from notifier.messages.catalogue import CONTEXT_NAMES, render
from notifier.messages.samples import SAMPLE_NOW, sample_state
from notifier.settings import Settings


def _everything(env: jinja2.Environment, *templates: str) -> frozenset[str]:
    return CONTEXT_NAMES


@contextlib.contextmanager
def whole_context(whole: bool) -> Iterator[None]:
    """Renders from every value while in effect when ``whole``."""
    if not whole:
        yield
        return
    with mock.patch.object(catalogue, "template_variables", _everything):
        yield


def measure(channel: Channel, settings: Settings, passes: int) -> float:
    """CPU microseconds per message of ``channel``."""
    states = {lang: sample_state(lang) for lang in Lang}
    messages = [(kind, lang) for kind in Kind for lang in Lang]
    cpu = time.process_time()
    for _ in range(passes):
        for kind, lang in messages:
            render(kind, channel, states[lang], settings, SAMPLE_NOW)
    return (time.process_time() - cpu) / (passes * len(messages)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--passes", type=int, default=300, help="per round, context, channel")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    settings = Settings()
    results: dict[tuple[Channel, bool], list[float]] = {}
    for channel in Channel:  # warm the template and variable caches
        for whole in (False, True):
            with whole_context(whole):
                measure(channel, settings, 1)
    for _ in range(args.rounds):
        for channel in Channel:
            for whole in (True, False):
                with whole_context(whole):
                    results.setdefault((channel, whole), []).append(
                        measure(channel, settings, args.passes))
    print(f"render CPU per message, median of {args.rounds} rounds of {args.passes} passes")
    for channel in Channel:
        whole = statistics.median(results[channel, True])
        lean = statistics.median(results[channel, False])
        print(f"{channel:6} whole context {whole:7.1f} µs   lean context {lean:7.1f} µs   "
              f"ratio lean/whole {lean / whole:.2f}")


if __name__ == "__main__":
    main()
