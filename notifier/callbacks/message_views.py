"""What the status API tells a booking system about one message. Pure: no Redis, no clock.

A view names its fields one by one (an allowlist, as callbacks do): a delivery record,
a callback log entry or an appointment's story may hold more, and nothing reaches an
integrator unless it is added here on purpose. A view never carries a name, a phone
number, an email address or a message's text.

Every field is present in every view, ``null`` when it has no value:

- ``message_id`` (the send key), ``reference``, ``location_id``, ``kind``, ``channel``,
  ``language``;
- ``status`` and ``reason``: the words of :mod:`notifier.public_status`;
- ``reason_description``: the reason in French and English (``{"fr": ..., "en": ...}``);
- ``provider_code``: the provider's own code of a failure; ``attempts``: the tries made;
- ``send_at``: when a scheduled message is due;
- ``created_at``: when it was planned (or, for a message already tried, first tried);
  ``updated_at``: when its status last changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from notifier.callbacks.events import callback_event
from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel, Lang
from notifier.operations.story import Story, StoryEntry
from notifier.planning.reasons import Reason
from notifier.public_status import PublicStatus, describe_reason, public_reason, public_status
from notifier.store.callback_log import LogEntry

MessageView = dict[str, Any]

FIELDS = ("message_id", "reference", "location_id", "kind", "channel", "language", "status",
          "reason", "reason_description", "provider_code", "attempts", "send_at",
          "created_at", "updated_at")


def describe(reason: str | None) -> dict[str, str] | None:
    """``reason`` in French and English; None without a reason."""
    if not reason:
        return None
    return {str(lang): describe_reason(reason, lang) for lang in Lang}


def _view(**values: Any) -> MessageView:
    view = {name: values.get(name) for name in FIELDS}
    view["reason_description"] = describe(view["reason"])
    return view


def _iso(at: dt.datetime | None) -> str | None:
    return None if at is None else at.astimezone(dt.UTC).isoformat()


def _int(value: object) -> int | None:
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() else None


def record_view(key: str, record: Mapping[str, Any], *, reference: str | None = None,
                location: str | None = None) -> MessageView | None:
    """The view of a delivery record (None when it has no status the gateway knows).

    Parameters:
      key: the record's send key.
      record: its fields (those :mod:`notifier.operations.story` keeps will do).
      reference, location: the appointment's, when the record does not name them.
    """
    try:
        status = DeliveryStatus(str(record.get("status", "")))
        channel = Channel(str(record.get("channel", "")))
    except ValueError:
        return None
    error_code = record.get("error_code") or None
    return _view(
        message_id=key, reference=record.get("reference") or reference,
        location_id=record.get("location") or location, kind=record.get("kind"),
        channel=str(channel), language=record.get("lang") or None,
        status=str(public_status(status)),
        reason=public_reason(status, reason=record.get("reason") or None,
                             error_code=error_code, channel=channel),
        provider_code=error_code, attempts=_int(record.get("attempts")) or 0,
        created_at=record.get("created_at"), updated_at=record.get("updated_at"),
    )


def entry_view(entry: LogEntry) -> MessageView:
    """The view of a ``message.*`` callback log entry: the message as that change left it.

    Raises :class:`~notifier.errors.MalformedLogEntry` as
    :func:`~notifier.callbacks.events.callback_event` does."""
    data = callback_event(entry)["data"]
    assert isinstance(data, dict)
    return _view(**data)


def _planned(key: str, story: Story, *, at: dt.datetime | None, status: PublicStatus,
             send_at: dt.datetime | None = None, updated: dt.datetime | None = None,
             ) -> MessageView:
    """A message with no record yet: scheduled, or withdrawn before it left."""
    _, kind, channel, *_ = [*key.split(":"), "", ""]
    facts = story.appointment or {}
    return _view(
        message_id=key, reference=story.reference, location_id=story.location, kind=kind,
        channel=channel, language=facts.get("lang"), status=str(status),
        reason=Reason.WITHDRAWN if status is PublicStatus.WITHDRAWN else None, attempts=0,
        send_at=_iso(send_at), created_at=_iso(at), updated_at=_iso(updated or at),
    )


def appointment_views(story: Story) -> list[MessageView]:
    """Every message of the appointment the story tells, in the order it first names them:
    its delivery record's status when it has one, else ``scheduled`` while it waits (in
    the schedule, or handed to a worker that has not taken it yet), or ``withdrawn`` when
    an event took it back."""
    order: dict[str, None] = {}
    planned_at: dict[str, dt.datetime] = {}
    last_plan: dict[str, tuple[StoryEntry, dict[str, Any] | None]] = {}
    pending: dict[str, StoryEntry] = {}
    records: dict[str, StoryEntry] = {}
    for entry in story.entries:
        if entry.what == "event":
            for item in entry.details.get("planned") or []:
                key = item.get("key")
                if key:
                    order.setdefault(key)
                    planned_at.setdefault(key, entry.at)
                    last_plan[key] = (entry, item)
            for key in entry.details.get("withdrawn") or []:
                order.setdefault(key)
                last_plan[key] = (entry, None)
        elif entry.key:
            order.setdefault(entry.key)
            if entry.source == "pending":
                pending[entry.key] = entry
            elif entry.source == "delivery":
                records[entry.key] = entry
    views = []
    for key in order:
        view = _message(key, story, planned_at.get(key), last_plan.get(key), pending.get(key),
                        records.get(key))
        if view is not None:
            views.append(view)
    return views


def _message(key: str, story: Story, at: dt.datetime | None,
             plan: tuple[StoryEntry, dict[str, Any] | None] | None,
             waiting: StoryEntry | None, record: StoryEntry | None) -> MessageView | None:
    if record is not None:
        fields = {**record.details, "updated_at": _iso(record.at)}
        return record_view(key, fields, reference=story.reference, location=story.location)
    if waiting is not None:
        return _planned(key, story, at=at or waiting.at, status=PublicStatus.SCHEDULED,
                        send_at=waiting.at, updated=at)
    if plan is None:
        return None  # a line whose record expired: nothing left to tell
    entry, item = plan
    if item is None:
        return _planned(key, story, at=at, status=PublicStatus.WITHDRAWN, updated=entry.at)
    send_at = item.get("send_at")
    return _planned(key, story, at=at, status=PublicStatus.SCHEDULED,
                    send_at=dt.datetime.fromisoformat(send_at) if send_at else None,
                    updated=entry.at)
