"""What the simulated gateway texts or says back to a patient's text or key: the same
templates, through the same renderers, as the running gateway's
(:mod:`notifier.inbound.replies` for keywords and the "we do not reply" notice,
:mod:`notifier.responses.replies` for the answers to an answer,
:mod:`notifier.messages.keypad` for a call's sentences)."""

from __future__ import annotations

from notifier.domain import Channel, Lang
from notifier.inbound.keywords import OTHER, parse
from notifier.inbound.replies import render_reply
from notifier.messages.keypad import KeypadPart, spoken
from notifier.responses.replies import ResponseReply, render_response_reply
from notifier.settings import Settings
from notifier.simulation.conversation import ReplyFacts, ReplyKind

_SAID = {
    ReplyKind.CONFIRMED: KeypadPart.CONFIRMED,
    ReplyKind.DECLINED: KeypadPart.DECLINED,
    ReplyKind.DECLINED_LATE: KeypadPart.DECLINED,  # the booking system is told it is late
    ReplyKind.CHANGED: KeypadPart.CHANGED,
    ReplyKind.KEYWORD: KeypadPart.STOPPED,  # 9, the only key that is a "keyword"
}
_TEXTED = {
    ReplyKind.CONFIRMED: ResponseReply.CONFIRMED,
    ReplyKind.DECLINED: ResponseReply.DECLINED,
    ReplyKind.DECLINED_LATE: ResponseReply.DECLINED_LATE,
    ReplyKind.CHANGED: ResponseReply.CHANGED,
    ReplyKind.CLARIFY: ResponseReply.CLARIFY,
    ReplyKind.UNCLEAR: ResponseReply.UNCLEAR,
}


def reply_text(kind: ReplyKind, lang: Lang | None, channel: Channel, facts: ReplyFacts,
               settings: Settings) -> str | None:
    """The reply's text; None for what a call has no sentence for.

    Parameters:
      kind: which reply.
      lang: the question's language (the patient's when there is none).
      channel: how it is given back: a text, or a sentence said on the call.
      facts: the keyword answered; the questions an answer's reply is about.
      settings: the sender name and web address the replies say.
    """
    if channel is Channel.VOICE:
        return spoken(_SAID[kind], lang or Lang.FR, settings) if kind in _SAID else None
    if kind is ReplyKind.KEYWORD:
        return render_reply(parse(facts.keyword), settings)
    if kind is ReplyKind.NOTICE:
        return render_reply(OTHER, settings)
    return render_response_reply(_TEXTED[kind], lang or Lang.FR, settings,
                                 questions=facts.questions)
