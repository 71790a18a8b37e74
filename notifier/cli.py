"""The ``notifier`` command: run the gateway's processes and check its messages.

Every subcommand reads the ``NOTIFIER_*`` settings first; a wrong one stops it with one
line naming the setting and exit status 2. Modules behind each subcommand are imported
only when it runs, so ``notifier lint`` does not need Redis and ``--help`` needs nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from notifier.domain import Channel, Kind, Lang
from notifier.settings import Settings, SettingsError, load_settings

Command = Callable[[argparse.Namespace, Settings], int]

DESCRIPTION = """\
Patient notification and SMS gateway for clinics: appointment events in, the right
messages out (email, SMS, voice; French and English).

Settings come from NOTIFIER_* environment variables (see config/env.example).
"""


def preview(args: argparse.Namespace, settings: Settings) -> int:
    import jinja2

    from notifier.messages.lint import preview as render

    try:
        print(render(Kind(args.kind), Channel(args.channel), Lang(args.lang), settings))
    except jinja2.TemplateError as exc:
        print(
            f"notifier: the {args.channel}/{args.lang}/{args.kind} template does not render: {exc}",
            file=sys.stderr,
        )
        return 1
    return 0


def lint(_: argparse.Namespace, settings: Settings) -> int:
    from notifier.messages.lint import run_lint

    return run_lint(settings, sys.stdout)


def simulate(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.simulate import run

    return run(args.file, settings, sys.stdout, lang=Lang(args.lang))


def web(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from notifier.logs import configure_logging
    from notifier.web import create_app

    app = create_app(settings)  # refuses to start without a token or Redis
    configure_logging()
    # log_config=None: uvicorn's records go through our handler, which redacts.
    uvicorn.run(app, host=args.host, port=args.port, log_config=None)
    return 0


def worker_command(*, processes: int | None, threads: int | None) -> list[str]:
    """The Dramatiq command line that runs the gateway's workers."""
    command = [sys.executable, "-m", "dramatiq", "notifier.worker"]
    if processes is not None:
        command += ["--processes", str(processes)]
    if threads is not None:
        command += ["--threads", str(threads)]
    return command


def worker(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_redis_url("worker")
    command = worker_command(processes=args.processes, threads=args.threads)
    # Become the Dramatiq master rather than its parent, so that the process manager's
    # signals reach the master (FIELD-NOTES: signal the master only).
    os.execv(command[0], command)
    return 0  # not reached


def scheduler(_: argparse.Namespace, settings: Settings) -> int:
    from notifier.scheduler import run

    return run(settings)


def demo(_: argparse.Namespace, settings: Settings) -> int:
    from notifier.demo import main as run_demo

    return run_demo(settings)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notifier",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    def add(name: str, run: Command, summary: str, details: str = "") -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=summary,
            description=f"{summary}\n\n{details}".strip(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(run=run)
        return sub

    sub = add(
        "preview",
        preview,
        "Print one message as a patient would receive it, filled with sample data.",
        "Example: notifier preview reminder --channel sms --lang fr",
    )
    sub.add_argument(
        "kind",
        metavar="KIND",
        choices=[k.value for k in Kind],
        help=f"the message kind: {', '.join(Kind)}",
    )
    sub.add_argument(
        "--channel",
        required=True,
        choices=[c.value for c in Channel],
        help=f"how it is sent: {', '.join(Channel)}",
    )
    sub.add_argument(
        "--lang",
        required=True,
        choices=[lang.value for lang in Lang],
        help="the patient's language: fr or en",
    )

    add(
        "lint",
        lint,
        "Check every message template in both languages; exit non-zero on any problem.",
        "Renders each kind, channel and language with sample data. Run it after editing templates.",
    )

    sub = add(
        "simulate",
        simulate,
        "Play a timeline of events on a simulated clock and report what would be sent.",
        'FILE is JSON Lines, one {"at": "<ISO time with offset>", "event": {...}} per '
        "line.\nNothing is stored or sent; recipients are masked in the report.",
    )
    sub.add_argument("file", metavar="FILE", type=Path, help="the timeline (JSON Lines)")
    sub.add_argument(
        "--lang",
        choices=[lang.value for lang in Lang],
        default=Lang.EN.value,
        help="language of the report's words and reasons (default: en)",
    )

    sub = add(
        "web",
        web,
        "Serve the HTTP intake API (POST /v1/events, GET /healthz).",
        "Needs NOTIFIER_API_TOKEN and NOTIFIER_REDIS_URL. The OpenAPI schema is served at "
        "/openapi.json and browsable at /docs.",
    )
    sub.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1; 0.0.0.0 for all)",
    )
    sub.add_argument("--port", type=_port, default=8000, help="port (default: 8000)")

    sub = add(
        "worker",
        worker,
        "Run the Dramatiq workers (intake and send queues).",
        "Replaces itself with `dramatiq notifier.worker`: stop it by signalling this process "
        "(the Dramatiq master), never its whole process group.",
    )
    sub.add_argument(
        "--processes",
        type=_positive,
        help="worker processes (default: Dramatiq's, the number of CPUs)",
    )
    sub.add_argument(
        "--threads", type=_positive, help="threads per process (default: Dramatiq's, 8)"
    )

    add(
        "scheduler",
        scheduler,
        "Run the scheduler: hands reminders and no-show messages to the workers when due.",
        "Runs until SIGTERM or SIGINT. Several may run against the same Redis.",
    )
    add(
        "demo",
        demo,
        "Run the whole gateway locally on sample appointments, with a private Redis.",
        "Messages are written to the outbox folder (NOTIFIER_OUTBOX_DIR, default "
        "var/outbox/) instead of being sent.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error argparse has already printed
        return stop.code if isinstance(stop.code, int) else 2
    try:
        settings = load_settings()
        status: int = args.run(args, settings)
    except SettingsError as wrong:
        print(f"notifier: {wrong}", file=sys.stderr)
        return 2
    return status
