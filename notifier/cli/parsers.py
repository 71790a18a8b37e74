"""How the ``notifier`` command declares its commands, command groups and their actions.

A command is a function of the parsed arguments and the settings that returns the exit
status.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeAlias

from notifier.domain import Lang
from notifier.settings import Settings

Command = Callable[[argparse.Namespace, Settings], int]
# The list that a command, or an action of a command group, is added to.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_command(
    commands: Commands, name: str, run: Command, *, summary: str, details: str = ""
) -> argparse.ArgumentParser:
    """Add the command ``name``, which runs ``run``: ``summary`` in the list of commands,
    then ``details`` (its line breaks kept) in its own help."""
    sub = commands.add_parser(
        name,
        help=summary,
        description=f"{summary}\n\n{details}".strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.set_defaults(run=run)
    return sub


def add_group(commands: Commands, name: str, *, summary: str, description: str) -> Commands:
    """Add the command group ``name`` (``summary`` in the list of commands, ``description``
    in its own help) and return the list its actions are added to."""
    group = commands.add_parser(name, help=summary, description=description)
    return group.add_subparsers(title="actions", metavar="ACTION", required=True)


def add_action(
    actions: Commands, name: str, run: Command, *, summary: str, description: str = ""
) -> argparse.ArgumentParser:
    """Add the action ``name`` of a command group, which runs ``run``: ``summary`` in the
    group's list, ``description`` (the summary when empty) in its own help."""
    sub = actions.add_parser(name, help=summary, description=description or summary)
    sub.set_defaults(run=run)
    return sub


def report_language(sub: argparse.ArgumentParser) -> None:
    """Add ``--lang``, the language of a report printed for an operator."""
    sub.add_argument(
        "--lang", choices=[lang.value for lang in Lang], default=Lang.EN.value,
        help="language of the report (default: en)",
    )
