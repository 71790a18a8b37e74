"""The gateway's exceptions. Every one derives from :class:`NotifierError`, but
:class:`SettingsError`, which is a :class:`SystemExit` (see its docstring):

    NotifierError
     ├── InvalidEventError (also ValueError)    an event breaks the contract, or the store
     │                                          refuses it; not retried by the intake actor
     ├── EventRefused                           the store will not apply an event (a reused
     │                                          event id, a version jump); a code, no HTTP
     │                                          status
     ├── InvalidNumber (also ValueError)        not a phone number in international form
     ├── SmsOverBudget                          no form of an SMS fits its segment budget
     ├── DeliveryError                          a provider refused or failed a message
     ├── CannotTell                             the provider cannot be asked whether it took
     │                                          a message
     ├── RetryLater                             the send step asks to be run again later
     ├── ApiError                               an HTTP API refusal, answered as JSON
     ├── Refusal                                a console answer that ends the request early
     ├── TimelineError (also ValueError)        a simulator timeline line that cannot be played
     ├── RedisServerMissing (also RuntimeError) no redis-server binary to start
     ├── MalformedLogEntry (also ValueError)    a callback log entry its writers cannot have
     │                                          made
     ├── BadSecret (also ValueError)            not a ``whsec_`` callback signing secret
     ├── DestinationRefused (also ValueError)   a callback may not go to this URL
     ├── RedisUnreachable                       Redis did not answer an operator command
     ├── AlreadyProcessed                       an incoming text was processed already (a
     │                                          redelivery): nothing was written
     └── IntegratorProblem (also ValueError)    an operator's change to integrators or
                                                endpoints that cannot be done

    SystemExit
     └── SettingsError                          a wrong setting, at start: one line to print

A second base (``ValueError``, ``RuntimeError``) is kept where callers catch that.
Nothing here imports more than the event contract's problem wording, so the pure core
(:mod:`notifier.messages`) and a booking system's :mod:`notifier.event_sender` may raise
them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from notifier.problems import Problem, summary


class NotifierError(Exception):
    """The root of the gateway's own exceptions."""


class InvalidEventError(NotifierError, ValueError):
    """An event that does not follow the contract, or that the store refuses (an event id
    reused for another event, a version jump).

    :class:`notifier.event_sender.EventSender` raises it before enqueuing; the intake actor
    raises it without retrying, so the event stays in the intake queue's dead letters
    (7 days) for an operator.

    Parameters:
      problems: each field at fault and why.
      message: one line for logs and dead letters; the problems when not given.
    """

    def __init__(self, problems: list[Problem], *, message: str | None = None) -> None:
        super().__init__(summary(problems) if message is None else message)
        self.problems = problems


class EventRefused(NotifierError):
    """An event the store will not apply; nothing was written.

    Parameters:
      code: a stable, machine-readable name.
      message: one sentence for the integrator (never a submitted value).
      problems: per-field problems, as for an event that breaks the contract.
      why: what happened, for logs (``event_id_reused``, ``version_jump``).
    """

    def __init__(self, code: str, message: str, *,
                 problems: list[Problem] | None = None, why: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.problems = problems or []
        self.why = why or code

    def summary(self) -> str:
        """One line for a dead letter: the problems, or the code and its sentence."""
        return summary(self.problems) if self.problems else f"{self.code}: {self.message}"


class InvalidNumber(NotifierError, ValueError):
    """A number that is not a phone number in international form (the message omits it)."""


class SmsOverBudget(NotifierError):
    """No form of this SMS fits the segment budget: it must not be sent.

    Parameters:
      segments: what its shortest form still takes.
      budget: the most segments allowed.
    """

    def __init__(self, *, segments: int, budget: int) -> None:
        super().__init__(f"{segments} SMS segments even when shortened, over the budget "
                         f"of {budget}")
        self.segments = segments
        self.budget = budget


class FailureClass(enum.StrEnum):
    """What a :class:`DeliveryError` means for the message."""

    TRANSIENT = "transient"  # try again later, until the message's deadline
    PERMANENT = "permanent"  # this message to this address will never work: stop
    CONFIGURATION = "configuration"  # our account or settings are wrong: stop, alert
    AMBIGUOUS = "ambiguous"  # the provider may have taken it (timeout, 5xx on a create)


class DeliveryError(NotifierError):
    """A provider refused or failed a message.

    Parameters:
      failure: the class of failure, which decides retry or stop.
      code: the provider's code (e.g. Twilio's ``21610``, SMTP's ``550``), or ours.
      detail: one sentence for operators; never a recipient or message text.
      retry_after: seconds the provider asked us to wait, if it said.
      opted_out: the provider says the recipient opted out (Twilio 21610).
    """

    def __init__(
        self,
        failure: FailureClass,
        code: str,
        detail: str,
        *,
        retry_after: float | None = None,
        opted_out: bool = False,
    ) -> None:
        super().__init__(f"{failure} failure {code}: {detail}")
        self.failure = failure
        self.code = code
        self.detail = detail
        self.retry_after = retry_after
        self.opted_out = opted_out


class CannotTell(NotifierError):
    """The provider cannot be asked whether it took a message (an SMTP relay)."""


class RetryLater(NotifierError):
    """The send step asks to be run again later; the ``send_message`` actor hands it to
    Dramatiq as its retry, which never counts against the actor's crash retries (see
    ``retry_when`` in :mod:`notifier.actors`).

    Parameters:
      reason: what for, in a few words for logs (never a recipient or message text).
      delay: milliseconds until the next try.
      counted: the try counted as a failed one (a provider's failure, added to the
        delivery record's ``failures``, which lengthen the next delay); a throughput wait
        or an attempt in flight elsewhere is not.
    """

    def __init__(self, reason: str, *, delay: int, counted: bool) -> None:
        super().__init__(reason)
        self.delay = delay
        self.counted = counted


class ApiError(NotifierError):
    """A refusal to answer with ``{"error": code, "message": message}`` (the shapes
    :mod:`notifier.web.errors` documents).

    Parameters:
      status_code: the HTTP status.
      code: a stable, machine-readable error name.
      message: one sentence for the integrator.
      headers: extra response headers (e.g. ``WWW-Authenticate``).
      problems: per-field problems of a refused event.
    """

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        problems: Sequence[Problem] = (),
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.problems = list(problems)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.problems:
            body["problems"] = [{"field": p["field"], "message": p["message"]}
                                for p in self.problems]
        return body


class Answer(Protocol):
    """What :class:`Refusal` needs of a web framework's response."""

    status_code: int


class Refusal(NotifierError):
    """A response that ends the request early (redirect to sign-in, 401, 403, 404).

    :class:`notifier.web.console.routing.ConsoleRoute` answers with ``response``.

    Parameters:
      response: the console's answer (a Starlette response).
    """

    def __init__(self, response: Answer) -> None:
        super().__init__(response.status_code)
        self.response = response


class TimelineError(NotifierError, ValueError):
    """A timeline line that cannot be played.

    Parameters:
      line: its number (from 1).
      path: the field at fault, dotted (``event.appointment.patient.mobile_phone``), or
        empty when the whole line is.
      problem: what is wrong, without the value (it may be a patient's phone number).
    """

    def __init__(self, line: int, path: str, problem: str) -> None:
        self.line, self.path, self.problem = line, path, problem
        where = f"line {line}" + (f", {path}" if path else "")
        super().__init__(f"{where}: {problem}")


class RedisServerMissing(NotifierError, RuntimeError):
    """No redis-server binary on PATH."""


class RedisUnreachable(NotifierError):
    """Redis did not answer an operator command: the ``notifier`` command stops with exit
    status 1 and this one line (see :func:`notifier.cli.redis_connection.redis_connection`)."""


class AlreadyProcessed(NotifierError):
    """An incoming text's markers were there already when the step that records what it
    does ran (a redelivery, or a delivery racing the first): nothing was written, and the
    webhook answers with nothing (see :mod:`notifier.store.inbound_claims`)."""


class MalformedLogEntry(NotifierError, ValueError):
    """A callback log entry lacks a field its type needs, or holds a value no event has
    (see :func:`notifier.callbacks.events.callback_event`). The message names the entry
    and the field, never the field's value."""


class BadSecret(NotifierError, ValueError):
    """A callback signing secret is not ``whsec_`` and the base64 of 24 to 64 bytes (see
    :mod:`notifier.callbacks.signing`). The message never repeats the secret."""


class DestinationRefused(NotifierError, ValueError):
    """A callback may not go to this URL (see
    :func:`notifier.callbacks.destination_check.check_destination`).

    Parameters:
      reason: why, a word of :class:`notifier.callbacks.destination_check.Rejection`.
      message: the English sentence; it never repeats the URL or its addresses.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class IntegratorProblem(NotifierError, ValueError):
    """An operator's request about integrators or endpoints that cannot be done (an
    invalid id, URL or location, an id taken, an unknown integrator): its message says
    why and what to do instead, and the ``notifier`` command prints it as one line with
    exit status 2."""


class SettingsError(SystemExit):
    """Raised at start when a setting is wrong: its message is the one line to print.

    Not a :class:`NotifierError`, whose root is an ``Exception``: raised where a process
    starts (:mod:`notifier.worker` at import, ``create_app``, the metrics setup), a
    ``SystemExit`` passes through any ``except Exception`` on its way (a framework's, a
    thread's) and Python ends the process with the line and exit status 1. The
    ``notifier`` command catches it to print that line itself.
    """
