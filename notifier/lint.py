"""``notifier lint``: the message catalogue, the automatic replies to texts (keywords
and answers to questions) and the keypad sentences of calls, checked in one report
(:mod:`notifier.messages.checks`, :mod:`notifier.inbound.reply_checks`,
:mod:`notifier.responses.reply_checks`, :mod:`notifier.messages.keypad`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TextIO

from notifier.domain import Lang
from notifier.inbound.reply_checks import check_replies
from notifier.messages.checks import LintReport, check_catalogue
from notifier.messages.keypad import check_keypad
from notifier.messages.samples import SAMPLE_NOW
from notifier.responses.reply_checks import check_response_replies
from notifier.settings import Settings


def run_lint(
    settings: Settings,
    out: TextIO,
    *,
    templates_dir: Path | None = None,
    lang: Lang = Lang.EN,
    now: dt.datetime = SAMPLE_NOW,
) -> int:
    """Check the catalogue; print one line per SMS and one per problem. Returns the exit
    code: 0 when there is no problem, 1 otherwise.

    Parameters:
      settings: the deployment's settings (sender name, link pattern, segment budget...).
      out: where to print.
      templates_dir: a whole catalogue to check alone; by default, what the processes
        use: the deployment's folder (``settings.templates_dir``) over the shipped one.
      lang: the operator's language for the printed lines.
      now: the instant the sample appointment is rendered at.
    """
    report = LintReport(out, lang)
    if check_catalogue(report, settings, templates_dir=templates_dir, now=now):
        check_replies(report, settings, templates_dir=templates_dir)
        check_response_replies(report, settings, templates_dir=templates_dir)
        check_keypad(report, settings, templates_dir=templates_dir)
    return report.finish()
