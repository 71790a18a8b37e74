"""The types of the ``notifier`` command's arguments: each turns an argument's text into
its value, or raises :class:`argparse.ArgumentTypeError`, which argparse prints as a usage
error with exit status 2.

They keep their underscore names: argparse prints a type's name when ``int`` refuses a
value that ``str.isdigit`` accepts (``'²'``).
"""

from __future__ import annotations

import argparse


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
    from notifier.opt_outs import e164

    try:
        return e164(text)
    except InvalidNumber as exc:  # the message never repeats the number
        raise argparse.ArgumentTypeError(str(exc)) from None


def _reason(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must say why (it is kept in the audit)")
    return text.strip()
