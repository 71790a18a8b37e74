"""Validation problems as a developer should read them: a dotted field path and one
sentence, never the submitted value (it may be a phone number or a name)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypedDict

from pydantic import ValidationError

_PLAIN = {
    "missing": "is required",
    "extra_forbidden": "is not part of the event contract; remove it or check its spelling",
    "string_too_short": "must not be empty",
    "datetime_from_date_parsing": "must be a date and time such as 2026-12-01T09:30:00",
    "datetime_parsing": "must be a date and time such as 2026-12-01T09:30:00",
    "datetime_type": "must be a date and time such as 2026-12-01T09:30:00",
    "json_invalid": "is not valid JSON",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "int_type": "must be a whole number, written without quotes",
    "bool_type": "must be true or false, written without quotes",
}


class Problem(TypedDict):
    field: str
    message: str


def describe(exc: ValidationError) -> list[Problem]:
    return [_problem(error) for error in exc.errors(include_input=False, include_url=False)]


# A path part that is not shaped like a contract field name was typed by the caller (an
# unknown key, a dictionary key): it could be a phone number or a name, so it is not
# repeated.
_FIELD_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


def _part(part: object) -> str:
    if isinstance(part, int) or (isinstance(part, str) and _FIELD_NAME.match(part)):
        return str(part)
    return "[key]" if part == "[key]" else "(a key you sent)"


def field_path(loc: Sequence[str | int]) -> str:
    """A field's dotted path as an answer may show it: a part the caller typed that is
    not shaped like a field name is replaced, as it could be a phone number or a name."""
    return ".".join(_part(part) for part in loc) or "(body)"


def _problem(error: Any) -> Problem:
    path = field_path(error["loc"])
    kind = error["type"]
    if kind in _PLAIN:
        message = _PLAIN[kind]
    elif kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
    else:
        message = str(error["msg"])
        message = message[:1].lower() + message[1:]
    return Problem(field=path, message=message)


def summary(problems: list[Problem]) -> str:
    return "; ".join(f"{p['field']}: {p['message']}" for p in problems)
