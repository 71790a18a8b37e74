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
from typing import TYPE_CHECKING

from notifier.domain import Channel, Kind, Lang
from notifier.errors import SettingsError
from notifier.names import QUEUES
from notifier.settings import Settings, load_settings
from notifier.worker_metrics import metrics_environment

if TYPE_CHECKING:
    import redis

    from notifier.inbound.optouts import OptOutStore

Command = Callable[[argparse.Namespace, Settings], int]

DESCRIPTION = """\
Patient notification and SMS gateway for clinics: appointment events in, the right
messages out (email, SMS, voice; French and English).

Settings come from NOTIFIER_* environment variables (see config/env.example).
"""

# Seconds a stopping web process waits for requests in flight.
WEB_SHUTDOWN_GRACE = 5


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
    from notifier.logs import configure_logging
    from notifier.web import create_app
    from notifier.web.server import serve

    app = create_app(settings)  # refuses to start without a token or Redis
    configure_logging()
    serve(app, settings, host=args.host, port=args.port, shutdown_grace=WEB_SHUTDOWN_GRACE)
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


def _optout_store(settings: Settings) -> tuple[redis.Redis, OptOutStore]:
    import redis

    from notifier.inbound.optouts import OptOutStore

    client = redis.Redis.from_url(settings.require_redis_url("optout command"))
    return client, OptOutStore(client, settings)


def _redis_down(exc: Exception) -> int:
    print(f"notifier: cannot reach Redis ({type(exc).__name__}); nothing changed", file=sys.stderr)
    return 1


def optout_show(args: argparse.Namespace, settings: Settings) -> int:
    import redis

    from notifier.privacy import mask_address

    channel = Channel(args.channel)
    client, store = _optout_store(settings)
    try:
        state = store.state(args.number, channel)
        history = [e for e in store.audit(args.number, count=50) if e.channel is channel][-10:]
    except redis.RedisError as exc:
        return _redis_down(exc)
    finally:
        client.close()
    where = f"{mask_address(args.number)}, {channel} from sender scope {store.scope}"
    if state is None:
        print(f"{where}: subscribed (never opted out)")
    else:
        status = "OPTED OUT" if state.opted_out else "subscribed"
        keyword = f", keyword {state.keyword}" if state.keyword else ""
        print(f"{where}: {status} since {state.since.isoformat()} ({state.source}{keyword})")
    for entry in history:
        details = [f"{entry.previous} -> {entry.state}", entry.source]
        for label, value in (
            ("keyword", entry.keyword),
            ("message", entry.provider_message_id),
            ("reason:", entry.reason),
        ):
            if value:
                details.append(f"{label} {value}")
        print(f"  {entry.at.isoformat()}  {', '.join(details)}")
    return 0


def _optout_change(args: argparse.Namespace, settings: Settings, *, opted_out: bool) -> int:
    import redis

    from notifier.clock import utc_now
    from notifier.inbound.optouts import OptOutSource
    from notifier.privacy import mask_address

    channel = Channel(args.channel)
    client, store = _optout_store(settings)
    change = store.opt_out if opted_out else store.opt_in
    try:
        changed = change(
            args.number, channel=channel, source=OptOutSource.OPERATOR,
            reason=args.reason, now=utc_now(),
        )
    except redis.RedisError as exc:
        return _redis_down(exc)
    finally:
        client.close()
    what = "opted out of" if opted_out else "subscribed to"
    if changed:
        print(f"{mask_address(args.number)} is now {what} {channel}; recorded in the audit")
    else:
        print(f"{mask_address(args.number)} was already {what} {channel}; nothing changed")
    return 0


def optout_set(args: argparse.Namespace, settings: Settings) -> int:
    return _optout_change(args, settings, opted_out=True)


def optout_clear(args: argparse.Namespace, settings: Settings) -> int:
    return _optout_change(args, settings, opted_out=False)


def optout_export(args: argparse.Namespace, settings: Settings) -> int:
    import redis

    client, store = _optout_store(settings)
    try:
        if args.output is None:
            rows = store.export(sys.stdout)
        else:
            with args.output.open("w", newline="", encoding="utf-8") as out:
                rows = store.export(out)
    except redis.RedisError as exc:
        return _redis_down(exc)
    except OSError as exc:
        print(f"notifier: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 1
    finally:
        client.close()
    print(f"notifier: exported {rows} opt-out states (scope {store.scope})", file=sys.stderr)
    return 0


def _redis_client(settings: Settings, what: str) -> redis.Redis:
    import redis

    return redis.Redis.from_url(settings.require_redis_url(what))


def status(args: argparse.Namespace, settings: Settings) -> int:
    import json

    import redis

    from notifier.clock import utc_now
    from notifier.operations.status import health_summary
    from notifier.operations.terminal import render_status

    client = _redis_client(settings, "status command")
    try:
        summary = health_summary(client, settings, utc_now())
    except redis.RedisError as exc:
        if args.json:
            print(json.dumps({"healthy": False, "problems": ["redis_unreachable"]}))
        print(f"notifier: cannot reach Redis ({type(exc).__name__})", file=sys.stderr)
        return 1
    finally:
        client.close()
    if args.json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_status(summary, Lang(args.lang)))
    return 0 if summary.healthy else 1


def _operator() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (some containers)
        return f"uid-{os.getuid()}"


def dead_letters_list(args: argparse.Namespace, settings: Settings) -> int:
    import json

    import redis

    from notifier.operations.dead_letters import list_dead
    from notifier.operations.terminal import render_dead_letters

    client = _redis_client(settings, "dead-letters command")
    try:
        letters = list_dead(client, settings, args.queue, limit=args.limit)
    except redis.RedisError as exc:
        print(f"notifier: cannot reach Redis ({type(exc).__name__})", file=sys.stderr)
        return 1
    finally:
        client.close()
    if args.json:
        print(json.dumps([letter.to_dict() for letter in letters], ensure_ascii=False,
                         indent=2))
    else:
        print(render_dead_letters(letters, Lang(args.lang)))
    return 0


def _dead_letter_action(args: argparse.Namespace, settings: Settings, *, action: str) -> int:
    import redis

    from notifier.clock import utc_now
    from notifier.operations import dead_letters

    client = _redis_client(settings, "dead-letters command")
    options = {"actor": _operator(), "reason": args.reason, "now": utc_now()}
    try:
        if action == "requeue" and args.all:
            count = dead_letters.requeue_all(client, settings, args.queue, **options)
            print(f"requeued {count} dead letter(s) of the {args.queue} queue; "
                  "recorded in the audit")
            return 0
        act = dead_letters.requeue if action == "requeue" else dead_letters.discard
        done = act(client, settings, args.queue, args.id, **options)
    except redis.RedisError as exc:
        return _redis_down(exc)
    finally:
        client.close()
    if not done:
        print(f"notifier: no dead letter {args.id} in the {args.queue} queue (already "
              "requeued, discarded or expired); nothing changed", file=sys.stderr)
        return 1
    past = "requeued" if action == "requeue" else "discarded"
    print(f"{past} dead letter {args.id} of the {args.queue} queue; recorded in the audit")
    return 0


def dead_letters_requeue(args: argparse.Namespace, settings: Settings) -> int:
    return _dead_letter_action(args, settings, action="requeue")


def dead_letters_discard(args: argparse.Namespace, settings: Settings) -> int:
    return _dead_letter_action(args, settings, action="discard")


def appointment_reset_version(args: argparse.Namespace, settings: Settings) -> int:
    import redis

    from notifier.clock import utc_now
    from notifier.operations.versions import reset_version

    client = _redis_client(settings, "appointment command")
    try:
        done = reset_version(client, settings, args.reference, version=args.to,
                             actor=_operator(), reason=args.reason, now=utc_now())
    except redis.RedisError as exc:
        return _redis_down(exc)
    finally:
        client.close()
    if done is None:
        print(f"notifier: no appointment {args.reference} is held (never received, or "
              "expired); nothing changed", file=sys.stderr)
        return 1
    print(f"appointment {done.reference}: version {done.previous} -> {done.version}; "
          "recorded in its story and the audit")
    return 0


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


def _version(text: str) -> int:
    from notifier.domain import MAX_VERSION

    if not text.isdigit() or not 1 <= int(text) <= MAX_VERSION:
        raise argparse.ArgumentTypeError(f"{text!r} is not a version (1-{MAX_VERSION})")
    return int(text)


def _reference(text: str) -> str:
    from notifier.domain import reference_number

    try:
        return reference_number(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _phone_number(text: str) -> str:
    from notifier.errors import InvalidNumber
    from notifier.inbound.optouts import e164

    try:
        return e164(text)
    except InvalidNumber as exc:  # the message never repeats the number
        raise argparse.ArgumentTypeError(str(exc)) from None


def _reason(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must say why (it is kept in the audit)")
    return text.strip()


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
        "Renders each kind, channel and language with sample data, from NOTIFIER_TEMPLATES_DIR\n"
        "over the shipped templates when it is set. Run it after editing templates.",
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
        "/openapi.json and browsable at /docs. Behind a reverse proxy, list its address in "
        "NOTIFIER_WEB_TRUSTED_PROXIES: no X-Forwarded-* header is believed otherwise.",
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

    group = commands.add_parser(
        "optout",
        help="Show, set or clear a number's SMS or voice opt-out; export them all (CSV).",
        description="A number's opt-out state for the sender scope NOTIFIER_OPTOUT_SCOPE. "
        "Every change is kept in the audit with its reason. Needs NOTIFIER_REDIS_URL.",
    )
    actions = group.add_subparsers(title="actions", metavar="ACTION", required=True)

    def optout_action(name: str, run: Command, summary: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=summary, description=summary)
        sub.set_defaults(run=run)
        return sub

    def number_and_channel(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "number", metavar="NUMBER", type=_phone_number,
            help="the phone number in international form, e.g. +15145550123",
        )
        sub.add_argument(
            "--channel", choices=[Channel.SMS.value, Channel.VOICE.value],
            default=Channel.SMS.value, help="sms (texts) or voice (calls); default: sms",
        )

    number_and_channel(optout_action(
        "show", optout_show, "Print a number's state and its latest changes."
    ))
    for name, run, summary in (
        ("set", optout_set, "Opt a number out: no more messages on the channel."),
        ("clear", optout_clear, "Opt a number back in (only with the patient's consent)."),
    ):
        sub = optout_action(name, run, summary)
        number_and_channel(sub)
        sub.add_argument(
            "--reason", required=True, type=_reason,
            help="why, for the audit (e.g. 'patient asked by phone, ticket 1234')",
        )
    sub = optout_action(
        "export", optout_export, "Write every number's state as CSV, for the clinic's records."
    )
    sub.add_argument(
        "--output", metavar="FILE", type=Path, help="write to FILE instead of standard output"
    )

    def terminal_language(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--lang", choices=[lang.value for lang in Lang], default=Lang.EN.value,
            help="language of the report (default: en)",
        )

    sub = add(
        "status",
        status,
        "Print the gateway's health: queues, workers, scheduler, schedule, deliveries.",
        "Exit status 1 when messages are not going out (no live worker, the scheduler "
        "stopped, or Redis unreachable). Needs NOTIFIER_REDIS_URL.",
    )
    sub.add_argument("--json", action="store_true", help="print JSON instead of text")
    terminal_language(sub)

    group = commands.add_parser(
        "dead-letters",
        help="List, requeue or discard Dramatiq messages that failed for good.",
        description="Dead letters are kept 7 days. Requeue and discard are recorded in the "
        "operators' audit with your user name and the reason. Needs NOTIFIER_REDIS_URL.",
    )
    letters = group.add_subparsers(title="actions", metavar="ACTION", required=True)
    queue_names = list(QUEUES)
    sub = letters.add_parser("list", help="Print the latest dead letters, newest first.",
                             description="Print the latest dead letters, newest first.")
    sub.set_defaults(run=dead_letters_list)
    sub.add_argument("--queue", choices=queue_names, help="only this queue (default: both)")
    sub.add_argument("--limit", type=_positive, default=100,
                     help="how many at most (default: 100)")
    sub.add_argument("--json", action="store_true", help="print JSON instead of text")
    terminal_language(sub)

    sub = letters.add_parser(
        "requeue", help="Put a dead letter (or all of a queue's) back on its queue.",
        description="Put a dead letter (or all of a queue's) back on its queue, its "
        "retries reset.",
    )
    sub.set_defaults(run=dead_letters_requeue)
    which = sub.add_mutually_exclusive_group(required=True)
    which.add_argument("id", metavar="ID", nargs="?", help="the dead letter's id (see list)")
    which.add_argument("--all", action="store_true", help="every dead letter of the queue")
    sub.add_argument("--queue", choices=queue_names, required=True, help="its queue")
    sub.add_argument("--reason", required=True, type=_reason, help="why, for the audit")

    sub = letters.add_parser("discard", help="Delete a dead letter for good.",
                             description="Delete a dead letter for good.")
    sub.set_defaults(run=dead_letters_discard)
    sub.add_argument("id", metavar="ID", help="the dead letter's id (see list)")
    sub.add_argument("--queue", choices=queue_names, required=True, help="its queue")
    sub.add_argument("--reason", required=True, type=_reason, help="why, for the audit")

    group = commands.add_parser(
        "appointment",
        help="Repair an appointment the gateway holds.",
        description="Repair an appointment the gateway holds. Every change is recorded in "
        "its story and in the operators' audit with your user name and the reason. Needs "
        "NOTIFIER_REDIS_URL.",
    )
    repairs = group.add_subparsers(title="actions", metavar="ACTION", required=True)
    summary = "Set the version the gateway holds for an appointment."
    sub = repairs.add_parser(
        "reset-version", help=summary,
        description=f"{summary}\n\nAfter a stray event with a far too high version, every "
        "real event is ignored as stale_version: set the version back to the booking "
        "system's latest real one and its next event applies as usual. Nothing is sent.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.set_defaults(run=appointment_reset_version)
    sub.add_argument("reference", metavar="REFERENCE", type=_reference,
                     help="the appointment's 10-digit reference number")
    sub.add_argument("--to", required=True, type=_version, metavar="VERSION",
                     help="the version to hold, e.g. the booking system's latest")
    sub.add_argument("--reason", required=True, type=_reason,
                     help="why, for the story and the audit (e.g. 'test event sent to "
                     "production, ticket 1234')")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from notifier.logs import use_redacting_fallback

    # A command that sets up no logging (all but web and scheduler) still writes a
    # library's warning through the redacting formatter.
    use_redacting_fallback()
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
