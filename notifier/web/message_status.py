"""The status API: what became of a message, of an appointment's messages, of an event.

A token sees its own locations' messages, appointments and events only; anything else is
answered 404 exactly as if it did not exist, so that a message id or a reference tells
nothing about another location. A view never holds a name, phone number, email or text
(:mod:`notifier.callbacks.message_views`).

Where each answer comes from:

- one message: its delivery record (one read), or, before it has one (scheduled, or
  withdrawn before it left), its appointment's story;
- an appointment's messages: its story (:func:`notifier.operations.story.appointment_story`),
  which names every message planned, withdrawn, tried and sent, with their records;
- the message list: the callback log. Delivery records have no index by location, and
  scanning them would cost the whole keyspace; the log already holds every change of
  what booking systems are told (sent, delivered, failed, suppressed), with the message's
  location, in order. So the list covers the messages whose status changed within
  ``NOTIFIER_CALLBACK_RETENTION``; each page shows each of its messages once, as its
  latest change in that page left it; a later page may show the same message again, newer.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field
from redis import RedisError

from notifier.callbacks.message_views import (
    MessageView,
    appointment_views,
    describe,
    entry_view,
    record_view,
)
from notifier.domain import Channel, Kind
from notifier.errors import ApiError, MalformedLogEntry
from notifier.integrators.credentials import Credential
from notifier.integrators.model import MESSAGE_EVENTS
from notifier.operations.story import appointment_story
from notifier.public_status import PublicStatus
from notifier.store.callback_log import CallbackLog
from notifier.store.deliveries import DeliveryLog
from notifier.web.auth import authenticate, forbidden_location, unauthorized
from notifier.web.context import WebContext, web_context
from notifier.web.errors import ErrorBody
from notifier.web.feed import CURSOR_ANSWERS, documented, store_unavailable
from notifier.web.intake import RESPONSES as EVENT_RESPONSES
from notifier.web.intake import IntakeReply
from notifier.web.log_cursor import DEFAULT_LIMIT, MAX_LIMIT, checked_cursor

log = logging.getLogger(__name__)

router = APIRouter(tags=["feed and statuses"])

T = TypeVar("T")
MAX_ID_LENGTH = 200


class ReasonDescription(BaseModel):
    """A reason in French and in English."""

    fr: str
    en: str


class MessageStatus(BaseModel):
    """One message: never a name, phone number, email or text."""

    message_id: str = Field(description="The send key: the same id callbacks carry")
    reference: str | None
    location_id: str | None
    kind: str | None = Field(description="confirmation, reminder, modification, ...")
    channel: str | None = Field(description="email, sms or voice")
    language: str | None = Field(description="fr or en")
    status: PublicStatus
    reason: str | None = Field(description="Why it failed, was suppressed or withdrawn")
    reason_description: ReasonDescription | None
    provider_code: str | None = Field(description="The provider's own code of a failure")
    attempts: int | None
    send_at: str | None = Field(description="When a scheduled message is due")
    created_at: str | None
    updated_at: str | None


class AppointmentMessages(BaseModel):
    """Every message of one appointment, in the order they were planned."""

    reference: str
    messages: list[MessageStatus]


class MessageList(BaseModel):
    """A page of messages whose status changed."""

    messages: list[MessageStatus]
    next: str | None = Field(description="The cursor of the next page (pass it as `cursor`)")


class ListedStatus(enum.StrEnum):
    """The statuses the message list holds: those a change is logged for."""

    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"no {what} with this id for this token's locations; "
                    "check the id, or ask the gateway's operators which locations your "
                    "token acts for")


def _may_see(credential: Credential, location: str | None) -> bool:
    """A record of no known location is the deployment token's only."""
    if location is None:
        return credential.locations is None
    return credential.may_act_for(location)


def _reading(action: Callable[[], T]) -> T:
    try:
        return action()
    except RedisError as exc:
        log.error("status API: cannot read the store: %s", type(exc).__name__)
        raise store_unavailable() from None


_EXAMPLE = {
    "message_id": "1234567890:reminder:sms:86400:20270615T1330Z", "reference": "1234567890",
    "location_id": "clinique-plateau", "kind": "reminder", "channel": "sms",
    "language": "fr", "status": "failed", "reason": "landline",
    "reason_description": describe("landline"), "provider_code": "21614", "attempts": 1,
    "send_at": None, "created_at": "2027-06-14T13:30:01+00:00",
    "updated_at": "2027-06-14T13:30:02+00:00",
}
_SCHEDULED = {**_EXAMPLE, "message_id": "1234567890:reminder:sms:259200:20270615T1330Z",
              "status": "scheduled", "reason": None, "reason_description": None,
              "provider_code": None, "attempts": 0, "send_at": "2027-06-12T13:30:00+00:00",
              "created_at": "2026-11-24T15:30:00+00:00",
              "updated_at": "2026-11-24T15:30:00+00:00"}
_UNAUTHORIZED = documented(ErrorBody, "No bearer token, or the wrong one.",
                           unauthorized().body())
_UNAVAILABLE = documented(ErrorBody, "The gateway cannot reach its store; retry later.",
                          store_unavailable().body())


def _missing(what: str) -> dict[str, Any]:
    return documented(ErrorBody, f"No such {what}, or one of a location this token does not "
                      "act for (the two are not told apart).", not_found(what).body())


@router.get(
    "/v1/messages/{message_id}",
    summary="What became of one message",
    description="`message_id` is the id callbacks and the feed carry (it contains `:`).",
    response_model=MessageStatus,
    responses={200: documented(MessageStatus, "The message.", _EXAMPLE),
               401: _UNAUTHORIZED, 404: _missing("message"), 503: _UNAVAILABLE},
)
def get_message(
    request: Request,
    credential: Annotated[Credential, Depends(authenticate)],
    message_id: Annotated[str, Path(max_length=MAX_ID_LENGTH)],
) -> MessageView:
    context = web_context(request)
    view = _reading(lambda: _find_message(context, message_id))
    if view is None or not _may_see(credential, view["location_id"]):
        raise not_found("message")
    return view


def _find_message(context: WebContext, key: str) -> MessageView | None:
    record = DeliveryLog.of(context.redis, context.settings).get(key)
    if record:
        return record_view(key, record)
    story = appointment_story(context.redis, context.settings, key.split(":")[0])
    if story is None:
        return None
    return next((view for view in appointment_views(story) if view["message_id"] == key), None)


@router.get(
    "/v1/appointments/{reference}/messages",
    summary="Every message of one appointment",
    description="Each message planned for the appointment, in the order it was planned: "
    "scheduled, withdrawn, suppressed, sending, sent, delivered or failed.",
    response_model=AppointmentMessages,
    responses={200: documented(AppointmentMessages, "The appointment's messages.",
                               {"reference": "1234567890", "messages": [_SCHEDULED, _EXAMPLE]}),
               401: _UNAUTHORIZED, 404: _missing("appointment"), 503: _UNAVAILABLE},
)
def get_appointment_messages(
    request: Request,
    credential: Annotated[Credential, Depends(authenticate)],
    reference: Annotated[str, Path(max_length=MAX_ID_LENGTH)],
) -> dict[str, Any]:
    context = web_context(request)
    story = _reading(lambda: appointment_story(context.redis, context.settings, reference))
    if story is None or not _may_see(credential, story.location):
        raise not_found("appointment")
    return {"reference": reference, "messages": appointment_views(story)}


@router.get(
    "/v1/messages",
    summary="Messages whose status changed, oldest change first",
    description=(
        "Built from the log callbacks are sent from, so it covers the messages whose "
        "status changed (sent, delivered, failed, suppressed) within "
        "`NOTIFIER_CALLBACK_RETENTION`. A page shows each of its messages once, as its "
        "latest change in the page left it; a later page may show it again with a newer "
        "status (keep the latest by `message_id`). Pass `next` as `cursor` to read on; "
        "`since` and `until` bound the time of the change. Scheduled and withdrawn "
        "messages are listed per appointment (GET /v1/appointments/{reference}/messages)."
    ),
    response_model=MessageList,
    responses={200: documented(MessageList, "A page of messages (maybe empty).",
                               {"messages": [_EXAMPLE], "next": "1797262202000-0"}),
               403: documented(ErrorBody, "`location_id` is a location this token does not "
                               "act for.", forbidden_location("clinique-plateau").body()),
               **CURSOR_ANSWERS},
)
def list_messages(
    request: Request,
    credential: Annotated[Credential, Depends(authenticate)],
    location_id: Annotated[str | None, Query(max_length=MAX_ID_LENGTH)] = None,
    status: Annotated[ListedStatus | None, Query()] = None,
    kind: Annotated[Kind | None, Query()] = None,
    channel: Annotated[Channel | None, Query()] = None,
    since: Annotated[AwareDatetime | None, Query(description="Changes at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Changes at or before")] = None,
    cursor: Annotated[str | None, Query(description="The `next` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many changes to "
                                "read")] = DEFAULT_LIMIT,
) -> dict[str, Any]:
    context = web_context(request)
    if location_id is not None and not credential.may_act_for(location_id):
        raise forbidden_location(location_id)
    callback_log = CallbackLog(context.redis, keys=context.intake.keys)

    def read() -> tuple[str | None, list[Any]]:
        checked = checked_cursor(cursor, now=context.clock(),
                                 retention=context.settings.callback_retention,
                                 first_kept=callback_log.first_id() if cursor else None)
        return checked, callback_log.read(after=checked, count=limit,
                                          since_ms=_ms(since), until_ms=_ms(until))

    checked, entries = _reading(read)
    latest: dict[str, MessageView] = {}
    for entry in entries:
        if entry.fields.get("type") not in MESSAGE_EVENTS:
            continue
        try:
            view = entry_view(entry)
        except MalformedLogEntry as malformed:
            log.error("message list: %s; skipped", malformed)
            continue
        latest.pop(view["message_id"], None)
        latest[view["message_id"]] = view
    wanted = {"location_id": location_id, "status": status, "kind": kind, "channel": channel}
    messages = [
        view for view in latest.values()
        if _may_see(credential, view["location_id"])
        and all(value is None or view[name] == str(value) for name, value in wanted.items())
    ]
    return {"messages": messages, "next": entries[-1].id if entries else checked}


def _ms(at: dt.datetime | None) -> int | None:
    return None if at is None else int(at.timestamp() * 1000)


@router.get(
    "/v1/events/{event_id}",
    summary="What an accepted event did",
    description="The answer the event got when it was sent (the same as a repeat of it "
    "gets): the messages it planned, withdrew and skipped, or why it was ignored. Kept "
    "for `NOTIFIER_EVENT_RETENTION`.",
    response_model=IntakeReply,
    responses={200: {**EVENT_RESPONSES[202], "description": "The event's answer."},
               401: _UNAUTHORIZED, 404: _missing("event"), 503: _UNAVAILABLE},
)
def get_event(
    request: Request,
    credential: Annotated[Credential, Depends(authenticate)],
    event_id: Annotated[str, Path(max_length=MAX_ID_LENGTH)],
) -> JSONResponse:
    context = web_context(request)

    def read() -> tuple[Any, str | None]:
        answer = context.intake.answer(event_id)
        if answer is None:
            return None, None
        state = context.intake.load(str(answer.body.get("reference", "")))
        return answer, None if state is None else state.appointment.location.id

    answer, location = _reading(read)
    if answer is None or not _may_see(credential, location):
        raise not_found("event")
    return JSONResponse(answer.body)
