"""The checks of the automatic replies to patients' texts that ``notifier lint`` runs.

Canadian short-code rules (CWTA) want each reply in one SMS segment; like the appointment
messages, a reply must render and must not invite a carrier opt-out word other than ours.
"""

from __future__ import annotations

from pathlib import Path

from notifier.inbound.keywords import KeywordKind
from notifier.inbound.replies import REPLY_LANGS, render_reply_text, reply_template
from notifier.messages.checks import LintReport, describe_error
from notifier.messages.sms import sms_encoding
from notifier.messages.text_checks import invited_carrier_words, shouted_carrier_words
from notifier.settings import Settings


def check_replies(
    report: LintReport, settings: Settings, *, templates_dir: Path | None
) -> None:
    """Answers to patients' texts: each renders, is one segment and invites no opt-out
    word other than ours (they are not counted with the appointment messages).

    Parameters:
      report: where lines and problems go.
      settings: sender name, web address and fee notices the replies are rendered with.
      templates_dir: a whole catalogue to check alone; None for what the processes use.
    """
    label = report.word("reply")
    for reply_lang in REPLY_LANGS:
        for kind in KeywordKind:
            name = reply_template(kind, reply_lang)
            try:
                text = render_reply_text(kind, reply_lang, settings,
                                         templates_dir=templates_dir)
            except Exception as exc:  # any failure is the template's: report it, go on
                report.problem(name, "does_not_render", variant=label,
                               error=describe_error(exc))
                continue
            sms = sms_encoding(text)
            report.say("sms_line", name=name, variant=label, encoding=sms.encoding,
                       characters=sms.characters, segments=sms.segments)
            if sms.segments > 1:
                report.problem(name, "reply_segments", segments=sms.segments)
            words = invited_carrier_words(text) + shouted_carrier_words(text)
            for word in dict.fromkeys(words):
                report.problem(name, "opt_out_invite", word=word, variant=label)
