"""The answer to a patient's reply to a question: one SMS segment, in the language the
question was asked in, from ``templates/replies/<fr|en>/response_<kind>.txt.j2``.

A clarification lists each open question's date, time and code; when they do not all
fit one segment, the latest appointments are left out (the patient can still answer the
ones listed, and ask the clinic). ``notifier lint`` checks each reply with the
deployment's sender name (:mod:`notifier.responses.reply_checks`).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from notifier.domain import Lang
from notifier.messages import formatting
from notifier.messages.catalogue import environment, template_folders
from notifier.messages.sms import normalise_sms, sms_encoding
from notifier.responses.questions import OpenQuestion
from notifier.settings import Settings


class ResponseReply(enum.StrEnum):
    """Which answer a reply gets."""

    CONFIRMED = "confirmed"  # the answer is recorded: confirmed
    DECLINED = "declined"  # recorded: the patient cannot come
    DECLINED_LATE = "declined_late"  # recorded, after the cancellation deadline
    CHANGED = "changed"  # the appointment changed since it was asked: nothing recorded
    CLARIFY = "clarify"  # which appointment? the open ones, with their codes
    UNCLEAR = "unclear"  # not an answer: how to answer, or call the clinic


def reply_template(kind: ResponseReply, lang: Lang) -> str:
    """The template name of one reply, e.g. ``replies/fr/response_confirmed.txt.j2``."""
    return f"replies/{lang}/response_{kind}.txt.j2"


def _listed(question: OpenQuestion) -> dict[str, str]:
    return {"date": formatting.sms_date(question.closes_at),
            "time": formatting.sms_time(question.closes_at), "code": question.code}


def render_response_reply(
    kind: ResponseReply, lang: Lang, settings: Settings, *,
    questions: Sequence[OpenQuestion], templates_dir: Path | None = None,
) -> str:
    """The SMS that answers a reply.

    Parameters:
      kind: which answer.
      lang: the language the question was asked in.
      settings: the sender name and web address.
      questions: the questions answered (the date of the first and each one's time are
        told, or the first's alone where they would not fit one segment), or, for a
        clarification, the number's open ones, soonest first; at least one.
      templates_dir: a whole catalogue to use instead of the deployment's.
    """
    env = environment(*template_folders(settings, templates_dir))
    template = env.get_template(reply_template(kind, lang))
    first = questions[0]
    values: dict[str, Any] = {
        "sender_name": settings.sender_name, "web_address": settings.web_address,
        **_listed(first), "decline": first.decline,
    }
    listed = [_listed(q) for q in questions]
    while True:
        text = normalise_sms(template.render({**values, "questions": listed}))
        if len(listed) == 1 or sms_encoding(text).segments == 1:
            return text
        # One segment always: a clarification lists fewer appointments, an answer for a
        # family's appointments names the first alone.
        listed = listed[:-1] if kind is ResponseReply.CLARIFY else listed[:1]
