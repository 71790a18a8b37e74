"""Logging set-up shared by every process: one line per record, no patient data.

Modules log send keys, reference numbers, kinds and reason codes only. Every handler the
gateway's processes install formats with :class:`RedactingFormatter`, a second line of
defence over the whole text written (the message, an exception's traceback, a stack,
whatever a library put in its arguments):

- a Dramatiq message is shown as ``actor(message id; event id or send key...)``
  (:func:`notifier.message_summary.message_label`), never with its arguments, which hold
  names, numbers, emails and whatever a careless integrator sent;
- anything shaped like a phone number or an email address is masked;
- a URL's query string keeps its parameter names, never their values (tokens, or a
  client's personal data, would otherwise land in the access log);
- pydantic's ``input_value=...`` (the data a validation error quotes) is withheld.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import IO, Any

import dramatiq
from dramatiq.broker import MessageProxy

FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"
REDACTED = "[redacted]"

_PHONE = re.compile(r"\+\d{8,15}\b|\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b")
# An email address, also percent-encoded as it appears in a request's path.
_EMAIL = re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
# A URL's query string, up to a space, a quote or a fragment.
_QUERY = re.compile(r"\?[^\s\"'<>#]+")
_QUERY_VALUE = re.compile(r"=[^&;]*")
_PYDANTIC_INPUT = re.compile(r"input_value=.*?(?=, input_type=)")


class _Withheld:
    """Stands for arguments in a line, with ``%s`` and ``%r`` alike."""

    def __repr__(self) -> str:
        return "[arguments withheld]"


_WITHHELD = _Withheld()
# Dramatiq's debug line for every actor call, on a logger named after the actor's module.
_ACTOR_CALL = "Received args=%r kwargs=%r."


def _mask_query(found: re.Match[str]) -> str:
    return _QUERY_VALUE.sub(f"={REDACTED}", found.group(0))


def redact(text: str) -> str:
    """``text`` with query values, quoted validation input, emails and phones masked."""
    # Every line goes through here: a cheap test first spares most lines a pattern that
    # would find nothing (the email one alone doubles a line's cost).
    if "?" in text:
        text = _QUERY.sub(_mask_query, text)
    if "input_value=" in text:
        text = _PYDANTIC_INPUT.sub(f"input_value={REDACTED}", text)
    if "@" in text or "%40" in text:
        text = _EMAIL.sub("[email]", text)
    return _PHONE.sub("[phone]", text)


def _shown(arg: object, *, from_dramatiq: bool) -> object:
    if isinstance(arg, dramatiq.Message | MessageProxy):
        # Imported here: the summary needs the actors and the event contract, and most
        # processes never log a message (``notifier --help`` stays light).
        from notifier.message_summary import message_label

        return message_label(arg.actor_name, arg.message_id, arg.args)
    if from_dramatiq and isinstance(arg, tuple | dict):
        return _WITHHELD  # a message's arguments, or an actor's
    return arg


def _shown_args(record: logging.LogRecord) -> Any:
    from_dramatiq = (record.name == "dramatiq" or record.name.startswith("dramatiq.")
                     or record.msg == _ACTOR_CALL)
    args = record.args
    if isinstance(args, tuple):
        return tuple(_shown(arg, from_dramatiq=from_dramatiq) for arg in args)
    if isinstance(args, Mapping):
        return {name: _shown(arg, from_dramatiq=from_dramatiq) for name, arg in args.items()}
    return args


class RedactingFormatter(logging.Formatter):
    """A :class:`logging.Formatter` whose whole output goes through :func:`redact`, with
    Dramatiq messages among a record's arguments replaced by their label.

    Takes :class:`logging.Formatter`'s parameters. The record itself is left as it came
    (another handler may need it); a copy is formatted.
    """

    def format(self, record: logging.LogRecord) -> str:
        shown = logging.makeLogRecord(record.__dict__)
        shown.args = _shown_args(record)
        return redact(super().format(shown))


def redacting_handler(stream: IO[str] | None = None, *, fmt: str = FORMAT) -> logging.Handler:
    """A handler writing to ``stream`` (standard error by default) through the redacting
    formatter."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(fmt))
    return handler


def _log_uncaught(exc: BaseException, *, where: str) -> None:
    logging.getLogger("notifier.uncaught").critical("uncaught exception in %s", where,
                                                    exc_info=exc)


def _log_uncaught_in_thread(hook: threading.ExceptHookArgs) -> None:
    # threading's own hook is silent on SystemExit too.
    if hook.exc_type is SystemExit or hook.exc_value is None:
        return
    name = hook.thread.name if hook.thread is not None else "a thread"
    _log_uncaught(hook.exc_value, where=f"thread {name}")


def _log_uncaught_in_main(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
) -> None:
    _log_uncaught(exc, where="the main thread")


def configure_logging(level: int = logging.INFO) -> None:
    """Every record of this process to standard error through the redacting formatter;
    uncaught exceptions and warnings, which Python would print as they are (a library's
    warning may quote a value), through logging too."""
    root = logging.getLogger()
    root.handlers[:] = [redacting_handler()]
    root.setLevel(level)
    sys.excepthook = _log_uncaught_in_main
    threading.excepthook = _log_uncaught_in_thread
    logging.captureWarnings(True)
    # The twilio client logs every request at INFO (URLs with the account SID, headers):
    # noise at best, and a tenth of a worker's time per message.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


class _CurrentStderrHandler(logging.Handler):
    """Writes to ``sys.stderr`` as it is when a record comes, as Python's own last resort
    does (a command's standard error may be replaced after the handler is made)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # logging must never raise (a Handler's contract)
            self.handleError(record)


def use_redacting_fallback() -> None:
    """Redact what Python writes for a record no handler takes (``logging.lastResort``:
    the warnings and errors of a command that configured no logging)."""
    fallback = _CurrentStderrHandler(logging.WARNING)
    fallback.setFormatter(RedactingFormatter("%(name)s: %(message)s"))
    logging.lastResort = fallback
