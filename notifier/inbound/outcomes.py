"""What became of one incoming SMS, and the answer chosen for it."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from notifier.inbound.keywords import KeywordKind


class InboundOutcome(enum.StrEnum):
    """What became of one incoming message (logged, never shown to the patient)."""

    DUPLICATE = "duplicate"
    OPTED_OUT = "opted_out"
    ALREADY_OPTED_OUT = "already_opted_out"
    OPTED_IN = "opted_in"
    ALREADY_OPTED_IN = "already_opted_in"
    ANSWERED = "answered"
    NOTICE_SENT = "notice_sent"
    NOTICE_RECENTLY_SENT = "notice_recently_sent"
    SENDER_OPTED_OUT = "sender_opted_out"
    NOT_A_PHONE_NUMBER = "not_a_phone_number"
    # Patient responses: a text to a number with an open question.
    RESPONSE_RECORDED = "response_recorded"  # an answer, stored and told
    RESPONSE_REPEATED = "response_repeated"  # the same answer again: nothing new
    RESPONSE_CHANGED = "response_changed"  # the appointment changed since: nothing stored
    CLARIFICATION_SENT = "clarification_sent"  # which appointment? nothing stored
    NEEDS_HUMAN = "needs_human"  # not an answer: kept for operators


@dataclass(frozen=True)
class Handled:
    """The answer's text (None for an empty ``<Response/>``), what happened, the
    keyword's kind (None when the message was not read), and whether the answer was held
    back because the number had its day's share of answers to that keyword."""

    reply: str | None
    outcome: InboundOutcome
    kind: KeywordKind | None = None
    capped: bool = False
