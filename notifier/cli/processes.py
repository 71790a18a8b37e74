"""The commands that run the gateway's processes: ``web``, ``worker`` and ``scheduler``,
and ``demo``, which runs all three on sample appointments with a private Redis."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from notifier.cli.argument_types import _port, _positive
from notifier.cli.parsers import Commands, add_command
from notifier.names import PATIENT_QUEUES, QUEUES
from notifier.settings import Settings
from notifier.worker_metrics import metrics_environment

# Seconds a stopping web process waits for requests in flight.
WEB_SHUTDOWN_GRACE = 5


def web(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.logs import configure_logging
    from notifier.web import create_app
    from notifier.web.server import serve

    app = create_app(settings)  # refuses to start without a token or Redis
    configure_logging()
    serve(app, settings, host=args.host, port=args.port, shutdown_grace=WEB_SHUTDOWN_GRACE)
    return 0


def worker_command(
    *, processes: int | None, threads: int | None,
    queues: Sequence[str] = PATIENT_QUEUES,
) -> list[str]:
    """The Dramatiq command line that runs the gateway's workers on ``queues``."""
    command = [sys.executable, "-m", "dramatiq", "notifier.worker", "--queues", *queues]
    if processes is not None:
        command += ["--processes", str(processes)]
    if threads is not None:
        command += ["--threads", str(threads)]
    return command


def worker(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_redis_url("worker")
    command = worker_command(processes=args.processes, threads=args.threads,
                             queues=args.queues or PATIENT_QUEUES)
    # Become the Dramatiq master rather than its parent, so that the process manager's
    # signals reach the master, which stops its worker processes itself: a SIGTERM sent
    # to every worker process at once can hang one.
    os.execve(command[0], command, {**os.environ, **metrics_environment(settings)})
    return 0  # not reached


def scheduler(_: argparse.Namespace, settings: Settings) -> int:
    from notifier.scheduler import run

    return run(settings)


def demo(_: argparse.Namespace, settings: Settings) -> int:
    from notifier.demo import main as run_demo

    return run_demo(settings)


def register(commands: Commands) -> None:
    """Add ``web``, ``worker``, ``scheduler`` and ``demo`` to ``commands``."""
    sub = add_command(
        commands, "web", web,
        summary="Serve the HTTP intake API (POST /v1/events, GET /healthz).",
        details="Needs NOTIFIER_API_TOKEN and NOTIFIER_REDIS_URL. The OpenAPI schema is "
        "served at /openapi.json and browsable at /docs. Behind a reverse proxy, list its "
        "address in NOTIFIER_WEB_TRUSTED_PROXIES: no X-Forwarded-* header is believed "
        "otherwise.",
    )
    sub.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1; 0.0.0.0 for all)",
    )
    sub.add_argument("--port", type=_port, default=8000, help="port (default: 8000)")

    sub = add_command(
        commands, "worker", worker,
        summary="Run the Dramatiq workers (the intake and send queues, unless --queues).",
        details="Replaces itself with `dramatiq notifier.worker`: stop it by signalling this "
        "process (the Dramatiq master), never its whole process group.",
    )
    sub.add_argument(
        "--processes",
        type=_positive,
        help="worker processes (default: Dramatiq's, the number of CPUs)",
    )
    sub.add_argument(
        "--threads", type=_positive, help="threads per process (default: Dramatiq's, 8)"
    )
    sub.add_argument(
        "--queues", nargs="+", choices=QUEUES, metavar="QUEUE",
        help="the queues to consume (default: intake send; run the callbacks queue, which "
        "waits on booking systems' servers, in a worker of its own: --queues callbacks)",
    )

    add_command(
        commands, "scheduler", scheduler,
        summary="Run the scheduler: hands reminders and no-show messages to the workers when "
        "due.",
        details="Runs until SIGTERM or SIGINT. Several may run against the same Redis.",
    )
    add_command(
        commands, "demo", demo,
        summary="Run the whole gateway locally on sample appointments, with a private Redis.",
        details="Messages are written to the outbox folder (NOTIFIER_OUTBOX_DIR, default "
        "var/outbox/) instead of being sent.",
    )
