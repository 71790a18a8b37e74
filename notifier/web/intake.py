"""``POST /v1/events``: the HTTP door for booking systems.

The order of checks is deliberate: the token first (a stranger learns nothing about the
contract), then the declared media type, then the size, then the JSON (a key sent twice in
one object is refused), then the contract (its dates against the time of arrival), then
whether the token acts for the event's location (an integrator's token acts for its own
locations only; the deployment's token for all), then what only the store can tell (an
event id reused for another event, a version jump). Nothing is stored unless all pass.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis import RedisError
from starlette.concurrency import run_in_threadpool

from notifier.arrival import Arrival
from notifier.domain import MAX_VERSION_STEP, Event
from notifier.errors import ApiError, EventRefused
from notifier.store.intake import event_id_reused
from notifier.web.auth import (
    authenticate_request,
    deployment_credential,
    forbidden_location,
    require_token,
    unauthorized,
)
from notifier.web.body import payload_too_large, read_body, repeated_keys
from notifier.web.context import web_context
from notifier.web.errors import (
    ErrorBody,
    InvalidEventBody,
    event_refused,
    invalid_event,
    repeated_keys_refused,
)
from notifier.web.examples import BOOKED as EXAMPLE_BOOKED
from notifier.web.examples import EVENT_EXAMPLES
from notifier.web.plain_route import PlainRoute

log = logging.getLogger(__name__)

MAX_EVENT_BYTES = 64 * 1024


class IntakeReply(BaseModel):
    """The answer to an accepted or ignored event; the same event id always gets the same one.

    An accepted event also lists the messages it ``planned`` (kind, channel, send_at),
    the pending ones it ``withdrew`` and those it ``skipped`` (with a reason).
    """

    model_config = ConfigDict(extra="allow")

    status: Literal["accepted", "ignored"]
    event_id: str
    reference: str
    version: int
    reason: str | None = Field(default=None, description="Why an event was ignored")
    stored_version: int | None = Field(
        default=None, description="For an ignored event: the version the gateway holds"
    )


_EXAMPLE_IDS = {
    "event_id": EXAMPLE_BOOKED["event_id"],
    "reference": EXAMPLE_BOOKED["appointment"]["reference"],
    "version": EXAMPLE_BOOKED["version"],
}


def unsupported_media_type() -> ApiError:
    return ApiError(
        415, "unsupported_media_type", "send the event as Content-Type: application/json"
    )


def _json_declared(request: Request) -> bool:
    """True unless the request declares a media type other than JSON (a body without a
    Content-Type is read as JSON: RFC 9110 lets the recipient examine it)."""
    declared = request.headers.get("content-type")
    if declared is None:
        return True
    media = declared.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def unavailable() -> ApiError:
    return ApiError(
        503,
        "unavailable",
        "the event could not be stored right now; retry it later",
        headers={"Retry-After": "5"},
    )


def _documented(model: type[BaseModel], description: str, example: dict[str, Any]) -> Any:
    return {
        "model": model,
        "description": description,
        "content": {"application/json": {"example": example}},
    }


RESPONSES: dict[int | str, dict[str, Any]] = {
    202: _documented(
        IntakeReply,
        "Accepted: stored, and its messages are planned. Sending the same event again "
        "(same event_id) gets this same answer.",
        {
            **_EXAMPLE_IDS,
            "status": "accepted",
            "planned": [
                {"kind": "confirmation", "channel": "sms", "send_at": "2026-11-24T15:30:00+00:00"},
                {"kind": "reminder", "channel": "sms", "send_at": "2027-06-12T13:30:00+00:00"},
            ],
            "withdrawn": [],
            "skipped": [],
        },
    ),
    200: _documented(
        IntakeReply,
        "Ignored: the gateway already holds a newer version of this appointment.",
        {**_EXAMPLE_IDS, "status": "ignored", "reason": "stale_version", "stored_version": 2},
    ),
    400: _documented(
        ErrorBody,
        "The body is not JSON.",
        {
            "error": "malformed_json",
            "message": "the body is not valid JSON (EOF while parsing a value at line 1 column 5)",
        },
    ),
    401: _documented(
        ErrorBody,
        "No bearer token, or the wrong one.",
        unauthorized().body(),
    ),
    403: _documented(
        ErrorBody,
        "The token is an integrator's, and the event is about a location it does not act "
        "for; nothing was stored.",
        forbidden_location("clinique-plateau").body(),
    ),
    409: _documented(
        ErrorBody,
        "The event_id was already used for a different event; nothing was applied. "
        "A true repeat (the same event again) gets the first answer instead.",
        event_refused(event_id_reused()).body(),
    ),
    413: _documented(
        ErrorBody,
        f"The body is larger than {MAX_EVENT_BYTES // 1024} KiB.",
        payload_too_large(MAX_EVENT_BYTES).body(),
    ),
    415: _documented(
        ErrorBody,
        "The body is declared as something other than JSON.",
        unsupported_media_type().body(),
    ),
    422: _documented(
        InvalidEventBody,
        "The event does not meet the contract (including a key sent twice in one object, "
        "a date outside the window around now, or a version more than "
        f"{MAX_VERSION_STEP:,} above the version held). Each problem names a field and says "
        "what it must be; submitted values are never repeated.",
        {
            "error": "invalid_event",
            "message": "the event was refused: 1 problem",
            "problems": [
                {
                    "field": "appointment.patient.mobile_phone",
                    "message": "must be a phone number in international form, "
                    "for example +15145550123",
                }
            ],
        },
    ),
    503: _documented(
        ErrorBody,
        "The gateway cannot reach its store; nothing was stored. Retry later with the same event.",
        unavailable().body(),
    ),
}

# The busiest route: it reads the token, the body and the event itself, and FastAPI only
# documents it (see notifier.web.plain_route).
router = APIRouter(tags=["events"], route_class=PlainRoute)


@router.post(
    "/v1/events",
    summary="Send an appointment event",
    description=(
        "One appointment event from a booking system: the full appointment snapshot as it "
        "is now. `event_id` makes a repeat harmless (the same id with a different event is "
        "refused, 409); `version` orders events of the same appointment (an older version "
        "than the one held is ignored). Reasons for visit "
        "and other clinical notes are refused. Bodies are limited to "
        f"{MAX_EVENT_BYTES // 1024} KiB."
    ),
    status_code=202,
    response_model=IntakeReply,
    responses=RESPONSES,
    dependencies=[Depends(require_token)],  # documents the scheme; checked below
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/Event"},
                    "examples": EVENT_EXAMPLES,
                }
            },
        }
    },
)
async def post_event(request: Request) -> JSONResponse:
    context = web_context(request)
    # The deployment's token needs no Redis; an integrator's is looked up off the loop.
    credential = deployment_credential(request)
    if credential is None:
        credential = await run_in_threadpool(authenticate_request, request)
    if not _json_declared(request):
        log.info("refused event: unsupported_media_type")
        raise unsupported_media_type()
    raw = await read_body(request, limit=MAX_EVENT_BYTES)
    now = context.clock()
    try:
        repeated = repeated_keys(raw)
        if repeated:
            raise repeated_keys_refused(repeated)
        try:
            arrival = Arrival(now, destinations=context.destinations)
            event = Event.model_validate_json(raw, context=arrival)
        except ValidationError as exc:
            raise invalid_event(exc) from None
    except ApiError as refusal:
        fields = ", ".join(problem["field"] for problem in refusal.problems)
        log.info("refused event: %s%s", refusal.code, f" ({fields})" if fields else "")
        raise
    location = event.appointment.location.id
    if not credential.may_act_for(location):
        log.warning("refused event %s: integrator %s does not act for location %s",
                    event.event_id, credential.integrator, location)
        raise forbidden_location(location)
    try:
        answer = await run_in_threadpool(context.intake.accept, event, now)
    except EventRefused as exc:
        raise event_refused(exc) from None  # intake logged it, with the event id only
    except RedisError as exc:
        log.error(
            "event %s (%s, appointment %s): not stored, %s",
            event.event_id,
            event.type.value,
            event.appointment.reference,
            type(exc).__name__,
        )
        raise unavailable() from None
    # Intake logs the outcome (event id, type, reference), the same for both doors.
    return JSONResponse(answer.body, status_code=answer.status_code)
