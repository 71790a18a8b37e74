"""The ``notifier`` command: run the gateway's processes and check its messages.

Every subcommand reads the ``NOTIFIER_*`` settings first; a wrong one stops it with one
line naming the setting and exit status 2. Modules behind each subcommand are imported
only when it runs, so ``notifier lint`` does not need Redis and ``--help`` needs nothing.
Each command group is declared, with the functions it runs, in its own module here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from notifier.cli import (
    appointments,
    dead_letters,
    integrators,
    messages,
    optouts,
    processes,
    status,
)
from notifier.errors import RedisUnreachable, SettingsError
from notifier.settings import load_settings

DESCRIPTION = """\
Patient notification and SMS gateway for clinics: appointment events in, the right
messages out (email, SMS, voice; French and English).

Settings come from NOTIFIER_* environment variables (see config/env.example).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notifier",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    # --help lists the commands in this order.
    for group in (messages, processes, optouts, status, dead_letters, appointments,
                  integrators):
        group.register(commands)
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
        exit_status: int = args.run(args, settings)
    except SettingsError as wrong:
        print(f"notifier: {wrong}", file=sys.stderr)
        return 2
    except RedisUnreachable as down:
        print(f"notifier: {down}", file=sys.stderr)
        return 1
    return exit_status
