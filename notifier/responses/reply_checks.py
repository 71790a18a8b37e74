"""The checks of the answers to patients' replies that ``notifier lint`` runs: each
renders, takes one segment (a clarification with two appointments listed) and invites no
carrier keyword."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from notifier.domain import Channel, Lang
from notifier.messages.checks import LintReport, check_reply_text, describe_error
from notifier.messages.samples import SAMPLE_NOW, sample_state
from notifier.responses.questions import OpenQuestion, plan_question, question_for
from notifier.responses.replies import ResponseReply, render_response_reply, reply_template
from notifier.settings import Settings


def sample_questions(lang: Lang) -> list[OpenQuestion]:
    """Two open questions about the sample appointment and one the next day."""
    state = sample_state(lang, now=SAMPLE_NOW)
    plan = plan_question(state.appointment.reference, state.appointment.location, [],
                         SAMPLE_NOW)
    first = question_for(state, plan, channel=Channel.SMS, send_key="sample", now=SAMPLE_NOW)
    later = first.closes_at + dt.timedelta(days=1, hours=5, minutes=15)
    return [first, dataclasses.replace(first, reference="0000000002", code="999",
                                       closes_at=later)]


def check_response_replies(
    report: LintReport, settings: Settings, *, templates_dir: Path | None
) -> None:
    """Answers to replies to questions: each renders in one segment and invites no carrier
    keyword.

    Parameters:
      report: where lines and problems go.
      settings: the sender name and web address the replies are rendered with.
      templates_dir: a whole catalogue to check alone; None for what the processes use.
    """
    label = report.word("reply")
    for lang in Lang:
        questions = sample_questions(lang)
        for kind in ResponseReply:
            name = reply_template(kind, lang)
            try:
                text = render_response_reply(kind, lang, settings, questions=questions,
                                             templates_dir=templates_dir)
            except Exception as exc:  # any failure is the template's: report it, go on
                report.problem(name, "does_not_render", variant=label,
                               error=describe_error(exc))
                continue
            if kind is ResponseReply.CLARIFY and "999" not in text:
                text = "\n".join((text, "(2)"))  # both must fit: count it as over
            check_reply_text(report, name, text, variant=label)
