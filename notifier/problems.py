"""Validation problems as a developer should read them: a dotted field path and one
sentence, never the submitted value (it may be a phone number or a name)."""

from __future__ import annotations

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
}


class Problem(TypedDict):
    field: str
    message: str


def describe(exc: ValidationError) -> list[Problem]:
    return [_problem(error) for error in exc.errors(include_input=False, include_url=False)]


def _problem(error: Any) -> Problem:
    path = ".".join(str(part) for part in error["loc"]) or "(body)"
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
