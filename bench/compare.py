"""Benchmark comparison: the code before the speed work and the code of this tree, measured
in one sitting, runs interleaved, and a markdown table of min / median / max.

The code before (``--before``, a git ref) is checked out in a temporary git worktree outside
the repository and run with this interpreter (the dependencies are the same), with
``PYTHONPATH`` and the working folder set to it. Into that worktree go this tree's
benchmark scripts (``bench/``), so that both versions are measured by the same scripts;
they import only what both versions have (``notifier``'s intake, broker, web app and worker
module, ``tests.harness``, ``tests.factories`` and ``tests.fakes`` of the code measured).
The exception is ``schedule_bench``, whose hand-off step differs between the versions: the
code before runs its own ``bench/schedule_bench.py``, whose printed lines are read back;
this tree's writes ``--json``, as the others do.

    PYTHONPATH=. python bench/compare.py --quick              # a few minutes, one run each
    PYTHONPATH=. python bench/compare.py                      # 3 runs each, about 20 minutes
    PYTHONPATH=. python bench/compare.py --only delivery arret --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "7fc6977"  # the last commit before the speed work (its children: the first of it)
OWN_SCHEDULE_BENCH = "bench/schedule_bench_own.py"  # the code before's own, kept aside


@dataclass(frozen=True)
class Benchmark:
    """One benchmark script and what to read from it.

    Parameters:
      script: its path in a tree.
      full: its arguments for a full compare.
      quick: its arguments for --quick.
      rows: row label to a function of its figures (the parsed --json).
      own_script_before: run the code before's own script (parsed by ``parse_before``).
      parse_before: turns that script's printed output into the same figures.
    """

    script: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    rows: dict[str, Callable[[dict[str, Any]], float | None]]
    own_script_before: str | None = None
    parse_before: Callable[[str], dict[str, Any]] | None = None


def _life(key: str, whose: str | None = None) -> Callable[[dict[str, Any]], float | None]:
    def pick(figures: dict[str, Any]) -> float | None:
        value = figures["life"][key]
        return float(value.get(whose, 0.0) if whose is not None else value)
    return pick


def _ceiling(figures: dict[str, Any]) -> float | None:
    life = figures["life"]
    rate = life["redis_ops_per_s"]
    return None if rate is None else rate / life["commands_per_message"]


def parse_schedule_text(output: str) -> dict[str, Any]:
    """The figures of ``schedule_bench``'s printed lines (the code before's own script)."""
    def number(pattern: str) -> float:
        found = re.search(pattern, output)
        if found is None:
            raise ValueError(f"no line matches {pattern!r}")
        return float(found.group(1).replace(",", ""))

    rate = r"= +([\d,.]+)/s"
    return {
        "round_trips_per_s": number(r"baseline: Redis round trips.*" + rate),
        "book_per_s": number(r"intake: book.*" + rate),
        "book_rtt_per_event": number(r"book ([\d.]+) RTT/event"),
        "handoff_per_s": number(r"scheduler: hand-off of due entries.*" + rate),
        "handoff_rtt_per_entry": number(r"hand-off ([\d.]+) RTT/entry"),
        "bytes_per_message": number(r"Redis memory per scheduled message.*: ([\d,]+) bytes"),
        "schedule_bytes_per_message": number(r"of which the schedule itself.*: ([\d,]+) bytes"),
    }


BENCHMARKS = {
    "delivery": Benchmark(
        "bench/delivery_bench.py",
        full=("--processes", "1", "--rounds", "1", "--messages", "1500", "--life", "300"),
        quick=("--processes", "1", "--rounds", "1", "--messages", "200", "--life", "100"),
        rows={
            "SMS send rate, 1 worker process x 8 threads (SMS/s)":
                lambda f: f["processes"]["1"]["sms_per_s"],
            "no-op actor rate, the same (messages/s)": lambda f: f["processes"]["1"]["noop_per_s"],
            "worker CPU per SMS (ms)": lambda f: f["processes"]["1"]["worker_cpu_ms_per_sms"],
            "worker CPU per no-op message (ms)":
                lambda f: f["processes"]["1"]["worker_cpu_ms_per_noop"],
            "client round trips per send, the gateway's": _life("round_trips_per_send", "ours"),
            "  of which writes": _life("write_round_trips_per_send", "ours"),
            "  Dramatiq's own (not counted above)": _life("round_trips_per_send", "dramatiq"),
            "Redis commands per SMS sent (worker and Dramatiq)":
                lambda f: f["processes"]["1"]["commands_per_sms"],
            "Redis commands over a message's life, all processes": _life("commands_per_message"),
            "Redis CPU over a message's life (µs)": _life("redis_cpu_us_per_message"),
            "redis-server commands/s (redis-benchmark, plain mix, -P 16)":
                _life("redis_ops_per_s"),
            "ceiling on paper: messages/s one Redis primary carries (commands/s / commands "
            "per message)": _ceiling,
            "the same by Redis CPU alone (1 s / Redis CPU per message)":
                lambda f: 1e6 / f["life"]["redis_cpu_us_per_message"],
        },
    ),
    "schedule": Benchmark(
        "bench/schedule_bench.py",
        full=("--appointments", "10000", "--changes", "1000", "--round-trips", "10000"),
        quick=("--appointments", "2000", "--changes", "200", "--round-trips", "5000"),
        rows={
            "scheduler hand-off: round-trip times per due entry":
                lambda f: f["handoff_rtt_per_entry"],
            "scheduler hand-off: entries/s": lambda f: f["handoff_per_s"],
            "booking: round-trip times per event": lambda f: f["book_rtt_per_event"],
            "baseline: Redis round trips/s (PING)": lambda f: f["round_trips_per_s"],
            "Redis bytes per scheduled message, schedule only":
                lambda f: f["schedule_bytes_per_message"],
            "Redis bytes per scheduled message, everything": lambda f: f["bytes_per_message"],
        },
        own_script_before=OWN_SCHEDULE_BENCH,
        parse_before=parse_schedule_text,
    ),
    "intake": Benchmark(
        "bench/intake_bench.py",
        full=("--requests", "1000"),
        quick=("--requests", "200"),
        rows={
            "intake POST /v1/events, 8 clients (requests/s)":
                lambda f: f["POST /v1/events"]["per_s_clients"],
            "GET /healthz, 8 clients (requests/s)": lambda f: f["GET /healthz"]["per_s_clients"],
            "web CPU per event (ms)": lambda f: f["POST /v1/events"]["server_cpu_ms"],
            "web CPU per /healthz (ms)": lambda f: f["GET /healthz"]["server_cpu_ms"],
            "Redis commands per event": lambda f: f["redis_commands_per_event"],
        },
    ),
    "arret": Benchmark(
        "bench/arret_round_trips.py",
        full=("--messages", "20"),
        quick=("--messages", "10"),
        rows={
            "inbound ARRET: write round trips": lambda f: f["write_round_trips"],
            "inbound ARRET: round trips": lambda f: f["round_trips"],
            "inbound ARRET: commands Redis received (MONITOR)": lambda f: f["monitor_commands"],
        },
    ),
}


@dataclass
class Results:
    """Each row's values, by version, in run order; and the runs that failed."""

    values: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, row: str, version: str, value: float | None) -> None:
        if value is not None:
            self.values.setdefault(row, {}).setdefault(version, []).append(value)


def before_tree(ref: str, folder: Path) -> Path:
    """A worktree of ``ref`` in ``folder``, with this tree's benchmark scripts in it."""
    tree = folder / "before"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(tree),
                    ref], check=True)
    shutil.copy(tree / "bench" / "schedule_bench.py", tree / OWN_SCHEDULE_BENCH)
    for script in (ROOT / "bench").glob("*.py"):
        if script.name != "compare.py":
            shutil.copy(script, tree / "bench" / script.name)
    return tree


def check_imports(tree: Path, modules: list[str]) -> None:
    """Fail unless ``modules`` import in ``tree``, from ``tree``."""
    code = ("import importlib, notifier, sys\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            "print(notifier.__file__)")
    found = subprocess.run([sys.executable, "-c", code], cwd=tree, env=_environment(tree),
                           capture_output=True, text=True)
    if found.returncode != 0:
        raise SystemExit(f"the code in {tree} does not import:\n{found.stderr}")
    if not Path(found.stdout.strip()).is_relative_to(tree):
        raise SystemExit(f"notifier imports from {found.stdout.strip()}, not from {tree}")


def _environment(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env["PYTHONPATH"] = str(tree)
    return env


def run_one(bench: Benchmark, tree: Path, *, own: bool, quick: bool,
            scratch: Path) -> dict[str, Any]:
    """Run ``bench`` in ``tree`` and return its figures."""
    arguments = list(bench.quick if quick else bench.full)
    output_file = scratch / "figures.json"
    output_file.unlink(missing_ok=True)
    if own:
        assert bench.own_script_before is not None
        command = [sys.executable, str(tree / bench.own_script_before), *arguments]
    else:
        command = [sys.executable, str(tree / bench.script), *arguments,
                   "--json", str(output_file)]
    done = subprocess.run(command, cwd=tree, env=_environment(tree), capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:3])} failed:\n{done.stderr[-2000:]}")
    if own:
        assert bench.parse_before is not None
        return bench.parse_before(done.stdout)
    figures: dict[str, Any] = json.loads(output_file.read_text())
    return figures


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True,
                                   text=True).stdout.split()[2].removeprefix("v=")
    return (f"{os.cpu_count()} cores ({cpu}), {memory / 2**20:.0f} GiB, "
            f"Python {platform.python_version()}, Redis {redis_version}")


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    def shown(value: float) -> str:
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    return " / ".join(shown(v) for v in (min(values), statistics.median(values), max(values)))


def table(results: Results) -> str:
    lines = ["| measure | before: min / median / max | after: min / median / max |",
             "| --- | --- | --- |"]
    for row, versions in results.values.items():
        lines.append(f"| {row} | {_spread(versions.get('before', []))} | "
                     f"{_spread(versions.get('after', []))} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--before", default=BEFORE, metavar="REF",
                        help="the code before (default: %(default)s)")
    parser.add_argument("--runs", type=int, help="runs of each version (default 3, 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the tool")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), metavar="NAME",
                        help=f"some of: {', '.join(BENCHMARKS)}")
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 3)
    chosen = {name: BENCHMARKS[name] for name in (args.only or BENCHMARKS)}
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    results = Results()
    began, load_before = time.monotonic(), _load()
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as folder:
        tree = before_tree(args.before, Path(folder))
        try:
            check_imports(tree, ["notifier.actors", "notifier.web", "notifier.scheduler", *(
                bench.script.removesuffix(".py").replace("/", ".") for bench in chosen.values()
                if bench.own_script_before is None)])
            trees = {"before": tree, "after": ROOT}
            for run in range(runs):
                # Alternate which goes first, so that a drift of the machine's load in a
                # sitting weighs on both.
                order = ("before", "after") if run % 2 == 0 else ("after", "before")
                for name, bench in chosen.items():
                    for version in order:
                        print(f"run {run + 1}/{runs}: {name}, {version} "
                              f"({time.monotonic() - began:.0f} s, load {_load()})",
                              file=sys.stderr)
                        own = version == "before" and bench.own_script_before is not None
                        try:
                            figures = run_one(bench, trees[version], own=own, quick=args.quick,
                                              scratch=Path(folder))
                        except (RuntimeError, ValueError, KeyError) as failure:
                            results.failures.append(f"{name}, {version}, run {run + 1}: "
                                                    f"{failure}")
                            print(results.failures[-1], file=sys.stderr)
                            continue
                        for row, pick in bench.rows.items():
                            results.add(row, version, pick(figures))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(tree)], check=False)
    print(f"Machine: {machine()}; load average {load_before} at the start, {_load()} at "
          f"the end; {time.monotonic() - began:.0f} s.")
    print(f"Before: {args.before}; after: {head}; {runs} run(s) of each, interleaved"
          f"{', --quick sizes' if args.quick else ''}.\n")
    print(table(results))
    for failed in results.failures:
        print(f"\nFAILED: {failed}")
    return 1 if results.failures else 0


if __name__ == "__main__":
    sys.exit(main())
