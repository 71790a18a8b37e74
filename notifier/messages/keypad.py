"""The keypad sentences of an automated call, and their check in ``notifier lint``.

Around the message it speaks, a call says short sentences of its own: the choices of
its one-key menu, what a key did, goodbye. Each is a template,
``templates/voice/<lang>/_<part>.txt.j2``, rendered with the deployment's sender name on
one line. A call that asks the patient to confirm (see the location's patient responses)
offers 1 to confirm, 2 if they cannot come, 3 to hear the message again; any other call
keeps 1 to hear it again. Both offer 9 to stop automated calls.
"""

from __future__ import annotations

import enum
from pathlib import Path

from notifier.domain import Lang
from notifier.messages.catalogue import environment, template_folders
from notifier.messages.checks import LintReport, describe_error
from notifier.messages.text_checks import web_addresses
from notifier.settings import Settings


class KeypadPart(enum.StrEnum):
    """One keypad sentence, by the name of its template (``_<part>.txt.j2``)."""

    STOP_OPTION = "stop_option"  # 9 stops automated calls: after every message
    STOPPED = "stopped"  # 9 was pressed
    INVALID_KEY = "invalid_key"  # a key the menu does not offer; 1 to hear it again
    GOODBYE = "goodbye"  # the menu ended without a key (and on answering machines)
    EXPIRED = "expired"  # the message to repeat is no longer kept
    # A call that asks.
    CONFIRM_OPTION = "confirm_option"  # 1 confirms
    DECLINE_OPTION = "decline_option"  # 2 if the patient cannot come
    REPEAT_OPTION = "repeat_option"  # 3 to hear the message again
    INVALID_CHOICE = "invalid_choice"  # a key the asking menu does not offer
    CONFIRMED = "confirmed"  # 1 was recorded (or had been)
    DECLINED = "declined"  # 2 was recorded (or had been)
    CHANGED = "changed"  # the appointment moved, was cancelled or started since the call


def keypad_template(part: KeypadPart, lang: Lang) -> str:
    """The template name of one keypad sentence, e.g. ``voice/fr/_stop_option.txt.j2``."""
    return f"voice/{lang}/_{part}.txt.j2"


def spoken(
    part: str, lang: Lang, settings: Settings, *, templates_dir: Path | None = None
) -> str:
    """One keypad sentence (a :class:`KeypadPart`), on one line.

    Parameters:
      part, lang: which sentence, in which language.
      settings: the sender name the sentence may say, and the deployment's templates.
      templates_dir: a whole catalogue to use instead (see
        :func:`~notifier.messages.catalogue.template_folders`).
    """
    env = environment(*template_folders(settings, templates_dir))
    template = env.get_template(keypad_template(KeypadPart(part), lang))
    return " ".join(template.render(sender_name=settings.sender_name).split())


def check_keypad(report: LintReport, settings: Settings, *, templates_dir: Path | None) -> None:
    """Every keypad sentence renders in both languages and speaks no web address.

    Parameters:
      report: where problems go.
      settings: the sender name the sentences are rendered with.
      templates_dir: a whole catalogue to check alone; None for what the processes use.
    """
    label = report.word("keypad")
    for lang in Lang:
        for part in KeypadPart:
            name = keypad_template(part, lang)
            try:
                text = spoken(part, lang, settings, templates_dir=templates_dir)
            except Exception as exc:  # any failure is the template's: report it, go on
                report.problem(name, "does_not_render", variant=label,
                               error=describe_error(exc))
                continue
            for url in web_addresses(text):
                report.problem(name, "url_in_voice", url=url, variant=label)
