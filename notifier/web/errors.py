"""Error answers of the HTTP API: one JSON shape, sentences a developer can act on.

Every refusal (an :class:`~notifier.errors.ApiError`) carries ``{"error": <code>,
"message": <sentence>}``; a refused event adds ``problems``, one per field (worded by
:mod:`notifier.problems`, as for the Dramatiq door). No answer ever repeats a submitted
value: it could be a phone number or a name. The models here document those shapes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from notifier.errors import ApiError, EventRefused
from notifier.problems import Problem as FieldProblem
from notifier.problems import describe, field_path


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: str
    message: str


class Problem(BaseModel):
    """One reason an event was refused.

    Parameters:
      field: dotted path of the field, e.g. ``appointment.patient.mobile_phone``;
        ``(body)`` when the problem concerns the event as a whole.
      message: what to change, in one sentence.
    """

    field: str
    message: str


class InvalidEventBody(ErrorBody):
    """The body of a 422 answer."""

    problems: list[Problem]


def invalid_event(exc: ValidationError) -> ApiError:
    """The answer to an event that does not meet the contract (or is not JSON)."""
    for error in exc.errors(include_input=False, include_url=False):
        if error["type"] == "json_invalid":
            where = error.get("ctx", {}).get("error", "")
            return ApiError(400, "malformed_json", f"the body is not valid JSON ({where})")
    return _problems(describe(exc))


def _problems(problems: Sequence[FieldProblem]) -> ApiError:
    count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
    return ApiError(422, "invalid_event", f"the event was refused: {count}",
                    problems=problems)


def repeated_keys_refused(paths: Sequence[Sequence[str | int]]) -> ApiError:
    """The answer to a body that sends a key twice in one object: which value was meant?"""
    return _problems([FieldProblem(field=field_path(path),
                                   message="is sent more than once in its object; send it once")
                      for path in paths])


# The HTTP status of each refusal of the store, by its code: a reused event id conflicts
# with the event first sent under it; a version jump breaks the contract like a bad field.
REFUSAL_STATUS = {"event_id_reused": 409, "invalid_event": 422}


def event_refused(exc: EventRefused) -> ApiError:
    """The answer to an event the store would not apply (a reused event id, a version jump)."""
    return ApiError(REFUSAL_STATUS[exc.code], exc.code, exc.message, problems=exc.problems)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every refusal, including the framework's own (404, 405), in the same shape."""

    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = re.sub(r"[^a-z]+", "_", str(exc.detail).lower()).strip("_") or "error"
        body = ErrorBody(error=code, message=str(exc.detail)).model_dump()
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    async def request_error(_: Request, exc: Exception) -> JSONResponse:
        # Query or header validation on routes that declare them: same shape, no input echoed.
        assert isinstance(exc, RequestValidationError)
        fields = sorted({".".join(str(part) for part in error["loc"]) for error in exc.errors()})
        error = ApiError(422, "invalid_request", f"the request was refused: {', '.join(fields)}")
        return JSONResponse(error.body(), status_code=422)

    async def client_gone(_: Request, exc: Exception) -> Response:
        # The client left, or was cut off for sending too slowly (notifier.web.connections,
        # which counts it): nobody reads this answer, and it is no server error.
        assert isinstance(exc, ClientDisconnect)
        return Response(status_code=400)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(ClientDisconnect, client_gone)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, request_error)
