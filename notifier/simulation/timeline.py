"""The lines of a ``notifier simulate`` timeline, and how a file of them is read.

A timeline is JSON Lines. Every line has ``at`` (an ISO time with its offset), an
optional ``note`` for the reader, and exactly one of:

- ``event``: an event from the booking system, as ``POST /v1/events`` takes it;
- ``sms``: a text a patient sends to the gateway,
  ``{"from": "+15145550188", "body": "2"}``;
- ``keypress``: a key a patient presses during the latest automated call about an
  appointment, ``{"reference": "2026000005", "digits": "1"}``, with
  ``"answered_by": "machine"`` to play a key heard on an answering machine (``human`` by
  default).

A bad line stops the reading with its number, the field at fault and what is wrong
(:class:`~notifier.errors.TimelineError`), never the value (it may be a phone number).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from notifier.arrival import Arrival
from notifier.domain import Event, Phone, reference_number
from notifier.errors import TimelineError

# Twilio takes at most 1,600 characters in one message.
SMS_BODY_MAX = 1600
# One key of a telephone keypad, as Twilio's <Gather numDigits="1"> reports it.
KEYPAD = r"^[0-9*#]$"


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: AwareDatetime
    note: str | None = None


class TimedEvent(_Line):
    """One timeline line: the event, and when the gateway receives it."""

    event: Event


class InboundSms(BaseModel):
    """A text from a patient: the number it comes from and what it says."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    sender: Phone = Field(alias="from")
    body: Annotated[str, Field(max_length=SMS_BODY_MAX)]


class TimedSms(_Line):
    """One timeline line: a text the gateway receives at ``at``."""

    sms: InboundSms


class Keypress(BaseModel):
    """A key pressed during the latest automated call about an appointment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: Annotated[str, AfterValidator(reference_number)]
    digits: Annotated[str, Field(pattern=KEYPAD, description="one key: 0-9, * or #")]
    answered_by: Literal["human", "machine"] = "human"


class TimedKeypress(_Line):
    """One timeline line: a key the gateway hears at ``at``."""

    keypress: Keypress


TimelineLine = TimedEvent | TimedSms | TimedKeypress
_KINDS: dict[str, type[TimedEvent] | type[TimedSms] | type[TimedKeypress]] = {
    "event": TimedEvent, "sms": TimedSms, "keypress": TimedKeypress,
}


def _dotted(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def _line_error(number: int, exc: ValidationError, *, within: str | None = None) -> TimelineError:
    first = exc.errors()[0]
    where = first["loc"] if within is None else (within, *first["loc"])
    return TimelineError(number, _dotted(where), first["msg"].removeprefix("Value error, "))


def _kind_of(number: int, data: Any) -> str:
    named = [kind for kind in _KINDS if isinstance(data, dict) and kind in data]
    if len(named) != 1:
        raise TimelineError(
            number, "", "needs exactly one of event, sms or keypress"
            + (f" (it has {' and '.join(named)})" if named else ""),
        )
    return named[0]


def _line(number: int, data: Any) -> TimelineLine:
    kind = _kind_of(number, data)
    try:
        return _KINDS[kind].model_validate(data)
    except ValidationError as exc:
        raise _line_error(number, exc) from None


def _check_arrival(number: int, item: TimedEvent, data: dict[str, Any]) -> None:
    try:
        # As the gateway would: the event's dates against the time it is received.
        Event.model_validate(data["event"], context=Arrival(item.at))
    except ValidationError as exc:
        raise _line_error(number, exc, within="event") from None


def load_timeline(lines: Iterable[str]) -> list[TimelineLine]:
    """Parse and check a timeline; raises :class:`TimelineError` on the first bad line.

    Beyond each line's shape: lines keep time order, and a keypress names an appointment
    an earlier event line brought (a call can only be about one the gateway knows).
    """
    timeline: list[TimelineLine] = []
    references: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TimelineError(
                number, "", f"not valid JSON ({exc.msg}, column {exc.colno})"
            ) from None
        item = _line(number, data)
        if timeline and item.at < timeline[-1].at:
            raise TimelineError(number, "at", "is earlier than the line before; keep time order")
        if isinstance(item, TimedEvent):
            _check_arrival(number, item, data)
            references.add(item.event.appointment.reference)
        elif isinstance(item, TimedKeypress) and item.keypress.reference not in references:
            raise TimelineError(
                number, "keypress.reference",
                "names no appointment of an earlier event line; a call is about a booked one",
            )
        timeline.append(item)
    return timeline
