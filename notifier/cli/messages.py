"""The commands that show and check the messages without running the gateway:
``preview``, ``lint`` and ``simulate``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from notifier.cli.parsers import Commands, add_command
from notifier.domain import Channel, Kind, Lang
from notifier.settings import Settings


def preview(args: argparse.Namespace, settings: Settings) -> int:
    import jinja2

    from notifier.messages.preview import preview as render

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
    from notifier.lint import run_lint

    return run_lint(settings, sys.stdout)


def simulate(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.simulate import run

    return run(args.file, settings, sys.stdout, lang=Lang(args.lang))


def register(commands: Commands) -> None:
    """Add ``preview``, ``lint`` and ``simulate`` to ``commands``."""
    sub = add_command(
        commands, "preview", preview,
        summary="Print one message as a patient would receive it, filled with sample data.",
        details="Example: notifier preview reminder --channel sms --lang fr",
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

    add_command(
        commands, "lint", lint,
        summary="Check every message template in both languages; exit non-zero on any "
        "problem.",
        details="Renders each kind, channel and language with sample data, from "
        "NOTIFIER_TEMPLATES_DIR\nover the shipped templates when it is set. Run it after "
        "editing templates.",
    )

    sub = add_command(
        commands, "simulate", simulate,
        summary="Play a timeline of events on a simulated clock and report what would be "
        "sent.",
        details='FILE is JSON Lines: each line has "at" (an ISO time with offset), an optional '
        '"note", and one of\n  "event": {...}  an event, as POST /v1/events takes it\n'
        '  "sms": {"from": "+15145550166", "body": "2"}  a text from a patient\n'
        '  "keypress": {"reference": "2026000005", "digits": "2"}  a key pressed during the '
        'latest call\n    about that appointment ("answered_by": "machine" for an answering '
        "machine)\nOpt-outs (ARRET, REPRISE, key 9) and reply limits work as in the gateway; no "
        "number starts opted out.\nNothing is stored or sent; numbers are masked and "
        "free text is never shown in the report.",
    )
    sub.add_argument("file", metavar="FILE", type=Path, help="the timeline (JSON Lines)")
    sub.add_argument(
        "--lang",
        choices=[lang.value for lang in Lang],
        default=Lang.EN.value,
        help="language of the report's words and reasons (default: en)",
    )
