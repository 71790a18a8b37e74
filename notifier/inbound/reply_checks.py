"""The checks of the automatic replies to patients' texts that ``notifier lint`` runs.

Canadian short-code rules (CWTA) want each reply in one SMS segment; like the appointment
messages, a reply must render and must not invite a carrier opt-out word other than ours.
"""

from __future__ import annotations

from pathlib import Path

from notifier.inbound.keywords import KeywordKind
from notifier.inbound.replies import REPLY_LANGS, render_reply_text, reply_template
from notifier.messages.checks import LintReport, check_reply_text, describe_error
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
            check_reply_text(report, name, text, variant=label)
