"""``GET /v1/feed``: the callback log, read in order by a booking system that would rather
pull than receive callbacks (or that catches up after its endpoint was down).

Each event is the body a callback would carry (:func:`notifier.callbacks.events.callback_events`),
for the token's locations only: a message's own location; a contact change, the locations
that wrote to the address (a change that concerns none reaches only the deployment's
token). ``next`` is the id of the last entry read, even one another location's, so a
client that follows it never reads an entry twice.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from redis import RedisError

from notifier.callbacks.events import callback_events
from notifier.errors import ApiError, MalformedLogEntry
from notifier.integrators.credentials import Credential
from notifier.store.callback_log import CallbackLog, LogEntry
from notifier.store.deliveries import CALLBACK_RETENTION
from notifier.web.auth import authenticate, unauthorized
from notifier.web.context import web_context
from notifier.web.errors import ErrorBody
from notifier.web.log_cursor import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    checked_cursor,
    cursor_gone,
    malformed_cursor,
)

log = logging.getLogger(__name__)

router = APIRouter(tags=["feed and statuses"])


def store_unavailable() -> ApiError:
    return ApiError(503, "unavailable", "the gateway cannot read its store right now; "
                    "retry later", headers={"Retry-After": "5"})


class FeedEvent(BaseModel):
    """One event, exactly as a callback carries it."""

    id: str = Field(description="`evt_` and the log entry's id (a callback's webhook-id)")
    type: str = Field(description="`message.sent`, `message.delivered`, `message.failed`, "
                      "`message.suppressed`, `contact.opted_out`, `contact.opted_in`, "
                      "`contact.undeliverable`, `appointment.patient_confirmed`, "
                      "`appointment.patient_declined` or `reply.unmatched`")
    timestamp: str = Field(description="When the change happened (ISO 8601, UTC)")
    data: dict[str, Any] = Field(description="The message (never a name, phone number, "
                                 "email or text); for `contact.*`, the address concerned; "
                                 "for a patient response, the appointment and the answer; "
                                 "for `reply.unmatched`, the appointments asked about")


class FeedPage(BaseModel):
    """One page of the feed."""

    events: list[FeedEvent]
    next: str | None = Field(description="The cursor to pass as `after` for the next page "
                             "(the same as `after` when nothing new was read); null only "
                             "when the log is empty and no cursor was given")


EXAMPLE_EVENT = {
    "id": "evt_1795530600000-0",
    "type": "message.delivered",
    "timestamp": "2026-11-24T15:30:00+00:00",
    "data": {
        "message_id": "1234567890:confirmation:sms:v1", "reference": "1234567890",
        "location_id": "clinique-plateau", "kind": "confirmation", "channel": "sms",
        "language": "fr", "status": "delivered", "reason": None, "provider_code": None,
        "attempts": 1, "sequence": 1795530600000000,
        "created_at": "2026-11-24T15:29:58+00:00", "updated_at": "2026-11-24T15:30:00+00:00",
    },
}


def documented(model: type[BaseModel], description: str, example: Any) -> dict[str, Any]:
    return {"model": model, "description": description,
            "content": {"application/json": {"example": example}}}


# The refusals of a route that reads the log from a cursor.
CURSOR_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: documented(ErrorBody, "The cursor is not one the gateway gave.",
                    malformed_cursor().body()),
    401: documented(ErrorBody, "No bearer token, or the wrong one.", unauthorized().body()),
    410: documented(ErrorBody, "The cursor is older than the log keeps "
                    "(`NOTIFIER_CALLBACK_RETENTION`): start again without it.",
                    cursor_gone(CALLBACK_RETENTION).body()),
    503: documented(ErrorBody, "The gateway cannot reach its store; retry later.",
                    store_unavailable().body()),
}


def _visible(entry: LogEntry, credential: Credential) -> bool:
    if credential.locations is None:
        return True
    return any(credential.may_act_for(location) for location in entry.locations)


@router.get(
    "/v1/feed",
    summary="Read what happened to messages and contacts, in order",
    description=(
        "The events callbacks carry, oldest first, for the token's locations. Pass the "
        "answer's `next` as `after` to read on; a client that keeps its last `next` never "
        "misses nor reads twice an event. The gateway keeps events for "
        "`NOTIFIER_CALLBACK_RETENTION` (14 days unless set otherwise): an older cursor is "
        "refused (410); start again without `after` and catch up with the status API."
    ),
    response_model=FeedPage,
    responses={200: documented(FeedPage, "A page of events (maybe empty).",
                               {"events": [EXAMPLE_EVENT], "next": "1795530600000-0"}),
               **CURSOR_ANSWERS},
)
def read_feed(
    request: Request,
    credential: Annotated[Credential, Depends(authenticate)],
    after: Annotated[str | None, Query(description="The `next` of the previous page; "
                                       "leave out to start from the oldest event kept",
                                       examples=["1795530600000-0"])] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many log entries to "
                                "read (a page holds at most this many events, and fewer "
                                "when some are another location's)")] = DEFAULT_LIMIT,
) -> dict[str, Any]:
    context = web_context(request)
    callback_log = CallbackLog(context.redis, keys=context.intake.keys)
    try:
        cursor = checked_cursor(after, now=context.clock(),
                                retention=context.settings.callback_retention,
                                first_kept=callback_log.first_id() if after else None)
        entries = callback_log.read(after=cursor, count=limit)
    except RedisError as exc:
        log.error("cannot read the callback log: %s", type(exc).__name__)
        raise store_unavailable() from None
    events: list[dict[str, object]] = []
    for entry in entries:
        if not _visible(entry, credential):
            continue
        try:
            events.extend(callback_events(entry))
        except MalformedLogEntry as malformed:
            log.error("feed: %s; skipped", malformed)
    return {"events": events, "next": entries[-1].id if entries else cursor}
