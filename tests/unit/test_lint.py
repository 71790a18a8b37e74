"""``notifier lint`` and ``notifier preview`` over the shipped and broken catalogues."""

from __future__ import annotations

import dataclasses
import io
import shutil
from pathlib import Path

import pytest
from pydantic import BaseModel

from notifier.domain import Channel, Kind, Lang
from notifier.lint import run_lint
from notifier.messages import samples
from notifier.messages.catalogue import TEMPLATES_DIR
from notifier.messages.preview import preview
from notifier.messages.samples import LongestNames, longest_allowed
from notifier.messages.text_checks import (
    invited_carrier_words,
    shouted_carrier_words,
    web_addresses,
)
from notifier.settings import Settings

SETTINGS = Settings()


def lint(templates: Path | None = None, *, lang: Lang = Lang.EN,
         settings: Settings = SETTINGS) -> tuple[int, str]:
    out = io.StringIO()
    code = run_lint(settings, out, templates_dir=templates, lang=lang)
    return code, out.getvalue()


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    """A private copy of the shipped catalogue, to break."""
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, copy)
    return copy


def problems(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("PROBLEM", "PROBLÈME"))]


def test_shipped_catalogue_passes() -> None:
    code, output = lint()
    assert code == 0, output
    assert problems(output) == []
    assert "lint: 224 messages rendered, no problems" in output
    sms_lines = [line for line in output.splitlines() if line.startswith("sms/")]
    assert len(sms_lines) >= 12  # at least one per kind and language
    assert "sms/fr/reminder.txt.j2 (cancel link open): GSM-7, 160 characters, 1 segment(s)" \
        in sms_lines


def test_shipped_catalogue_passes_in_french() -> None:
    code, output = lint(lang=Lang.FR)
    assert code == 0
    assert "lint : 224 messages générés, aucun problème" in output
    assert "(lien d'annulation fermé) : GSM-7" in output


def test_reply_annuler_fails(templates: Path) -> None:
    (templates / "sms/fr/no_show.txt.j2").write_text(
        "{{ first_name }}, RV manqué - {{ clinic }}. Répondez ANNULER pour annuler le prochain.\n"
    )
    code, output = lint(templates)
    assert code == 1
    [line, *_] = problems(output)
    assert line.startswith("PROBLEM sms/fr/no_show.txt.j2: invites patients to send ANNULER")


def test_reply_cancel_in_email_fails(templates: Path) -> None:
    path = templates / "email/en/reminder.txt.j2"
    path.write_text(path.read_text().replace(
        "This is a reminder of your upcoming appointment.",
        "This is a reminder. Reply CANCEL if you cannot come."))
    code, output = lint(templates)
    assert code == 1
    assert any("email/en/reminder.txt.j2: invites patients to send CANCEL" in p
               for p in problems(output))


def test_a_question_inviting_yes_fails(templates: Path) -> None:
    # YES is Twilio's opt-in word: the patient would be opted in, not heard.
    (templates / "sms/en/_ask.txt.j2").write_text(
        "{% if ask_response %}Reply YES to confirm.{% endif %}\n")
    code, output = lint(templates)
    assert code == 1
    assert any("sms/en/reminder.txt.j2: invites patients to send YES" in p
               for p in problems(output))


def test_a_reminder_that_drops_the_question_is_noted(templates: Path) -> None:
    (templates / "sms/fr/reminder.txt.j2").write_text(
        "Rappel RV {{ first_name }} le {{ sms_date }} à {{ sms_time }} - {{ clinic }}.\n"
        '{% include "sms/fr/_cancel.txt.j2" %} {{ fee_notice }}\n')
    code, output = lint(templates)
    assert code == 0, output
    assert output.count("NOTE sms/fr/reminder.txt.j2: does not ask the patient-response") == 1


def test_over_budget_fails(templates: Path) -> None:
    # Too long whatever the names: nothing in it may be shortened.
    (templates / "sms/en/cancellation.txt.j2").write_text(
        "Appointment cancelled on {{ sms_date }} at {{ sms_time }}. " * 11 + "\n"
    )
    code, output = lint(templates)
    assert code == 1
    assert any(p.startswith("PROBLEM sms/en/cancellation.txt.j2: 4 SMS segments")
               and "over the budget of 3 even shortened" in p for p in problems(output))


def test_every_sms_is_checked_with_the_longest_names_the_contract_allows() -> None:
    code, output = lint()
    assert code == 0
    for lang in Lang:
        for kind in Kind:
            line = next(line for line in output.splitlines()
                        if line.startswith(f"sms/{lang}/{kind}.txt.j2 (longest names"))
            assert ": GSM-7, " in line and ", fitted: " in line
            segments = int(line.split(" characters, ")[1].split(" ")[0])
            assert segments <= SETTINGS.sms_segment_budget
    assert any(line.startswith("sms/fr/reminder.txt.j2 (longest names, cancel link open): GSM-7")
               and "fitted: letters GSM-7 lacks replaced" in line
               for line in output.splitlines())


def test_the_longest_names_are_worked_out_once_per_language_not_per_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each bound comes from the contract's JSON schema, slow to build: once per field and
    # language at most, not again for every kind, channel and situation the lint renders.
    asked: list[str] = []

    def counted(model: type[BaseModel], field: str) -> int:
        asked.append(field)
        return longest_allowed(model, field)

    monkeypatch.setattr(samples, "longest_allowed", counted)
    code, output = lint()
    assert code == 0, output
    assert len(asked) <= len(dataclasses.fields(LongestNames)) * len(Lang)


def test_a_field_that_cannot_be_shortened_fails_with_the_longest_names(
    templates: Path,
) -> None:
    # Fine with the sample's names; the contract allows a far longer address and
    # professional's name, which are never shortened in an SMS.
    path = templates / "sms/en/cancellation.txt.j2"
    path.write_text(path.read_text().replace(
        "{{ clinic }}", "{{ clinic }}, {{ address_lines|join(', ') }} ({{ professional }})"))
    code, output = lint(templates)
    assert code == 1
    assert [p.split(": ", 1)[0] for p in problems(output)] == [
        "PROBLEM sms/en/cancellation.txt.j2"
    ] * 2
    assert all("(longest names, cancel link" in p for p in problems(output))


def test_budget_comes_from_settings() -> None:
    code, output = lint(settings=Settings(sms_segment_budget=1))
    assert code == 1
    assert any("sms/fr/confirmation.txt.j2: 2 SMS segments" in p for p in problems(output))
    assert any("au-delà du maximum de 1 même abrégé" in p
               for p in problems(lint(settings=Settings(sms_segment_budget=1),
                                      lang=Lang.FR)[1]))


def test_missing_english_twin_fails(templates: Path) -> None:
    (templates / "sms/en/reminder.txt.j2").unlink()
    code, output = lint(templates)
    assert code == 1
    found = problems(output)
    assert ("PROBLEM sms/en/reminder.txt.j2: missing, but its French twin "
            "sms/fr/reminder.txt.j2 exists") in found
    assert [p for p in found if "does not render" in p] == [
        "PROBLEM sms/en/reminder.txt.j2: does not render (cancel link open): "
        "template sms/en/reminder.txt.j2 not found"
    ]


def test_missing_shared_part_twin_fails(templates: Path) -> None:
    (templates / "voice/fr/_call.txt.j2").rename(templates / "voice/fr/_appel.txt.j2")
    code, output = lint(templates, lang=Lang.FR)
    assert code == 1
    found = problems(output)
    assert ("PROBLÈME voice/fr/_call.txt.j2 : absent, alors que son pendant anglais "
            "voice/en/_call.txt.j2 existe") in found
    assert ("PROBLÈME voice/en/_appel.txt.j2 : absent, alors que son pendant français "
            "voice/fr/_appel.txt.j2 existe") in found


def test_syntax_error_and_undefined_name_fail(templates: Path) -> None:
    (templates / "email/fr/reminder.subject.j2").write_text("Rappel {% if %}\n")
    (templates / "voice/en/reminder.txt.j2").write_text("Hello {{ last_name }}.\n")
    code, output = lint(templates)
    assert code == 1
    found = problems(output)
    assert any(p.startswith("PROBLEM email/fr/reminder.subject.j2: does not render") for p in found)
    assert any(p.startswith("PROBLEM voice/en/reminder.txt.j2: does not render")
               and "last_name" in p for p in found)


def test_url_in_voice_fails(templates: Path) -> None:
    path = templates / "voice/fr/reminder.txt.j2"
    path.write_text(path.read_text().replace(
        "Lieu : {{ clinic }}.", "Lieu : {{ clinic }}. Détails sur {{ web_address }}."))
    code, output = lint(templates)
    assert code == 1
    assert any("voice/fr/reminder.txt.j2: a voice call must not speak a web address" in p
               for p in problems(output))


def test_hard_coded_link_fails(templates: Path) -> None:
    (templates / "sms/en/cancellation.txt.j2").write_text(
        "Cancelled: {{ first_name }} - {{ clinic }}. Book again: https://book.example.com\n"
    )
    (templates / "sms/fr/cancellation.txt.j2").write_text(
        "RV annulé {{ first_name }} - {{ clinic }}. "
        "https://rendez-vous.example.org/?r={{ reference }}&l=f\n"
    )
    code, output = lint(templates)
    assert code == 1
    found = problems(output)
    assert any("sms/en/cancellation.txt.j2: web address https://book.example.com" in p
               for p in found)
    assert any("sms/fr/cancellation.txt.j2: shows the cancel link where online "
               "cancellation is not possible" in p for p in found)


def test_link_without_phone_fallback_fails(templates: Path) -> None:
    (templates / "sms/en/_cancel.txt.j2").write_text(
        "{% if cancel_link %}To cancel: {{ cancel_link }}{% endif %}\n"
    )
    code, output = lint(templates)
    assert code == 1
    found = problems(output)
    assert any("sms/en/reminder.txt.j2: offers the cancel link while it is open, but not "
               "the clinic's phone once it is closed (cancel link closed)" in p for p in found)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Reply CANCEL to cancel", ["CANCEL"]),
        ("Répondez ANNULER", ["ANNULER"]),
        ("repondez annuler", ["annuler"]),
        ("Textez « ANNULER » au 64636", ["ANNULER"]),
        ('Text "END" to stop', ["END"]),
        ("reply with the word QUIT", ["QUIT"]),
        ("Envoyez le mot FIN", ["FIN"]),
        ("Text STOP to opt out", []),
        ("Textez ARRET pour ne plus recevoir de textos", []),
        ("Textez ARRET pour annuler la réception de textos", []),
        ("Annuler : https://x.example.org/?r=1", []),
        ("To cancel: https://x.example.org", []),
        ("Merci de ne pas y répondre.", []),
        ("Please do not reply to it.", []),
        # Opt-in words: a patient told to answer YES is opted back in, not heard.
        ("Reply YES to confirm", ["YES"]),
        ("Text UNSTOP to confirm", ["UNSTOP"]),
        ("Reply 1 to confirm, 2 if you cannot come.", []),
        ("Répondez 1 482 pour confirmer, 2 482 si vous ne pouvez pas venir.", []),
    ],
)
def test_invited_carrier_words(text: str, words: list[str]) -> None:
    assert invited_carrier_words(text) == words


def test_shouted_and_web_addresses() -> None:
    assert shouted_carrier_words("ANNULER : lien. Annuler : lien. STOP") == ["ANNULER"]
    assert shouted_carrier_words("Confirm? YES or no") == ["YES"]
    assert web_addresses("Voir www.rvsq.gouv.qc.ca. Ou https://a.example.org/?r=1&l=f, "
                         "ou rvsq.ca") == [
        "www.rvsq.gouv.qc.ca", "https://a.example.org/?r=1&l=f", "rvsq.ca"]
    assert web_addresses("Dr. Roy à 9 h 30 a.m. Msg/data") == []


def test_preview_email_and_sms() -> None:
    email = preview(Kind.CONFIRMATION, Channel.EMAIL, Lang.FR, SETTINGS)
    assert email.startswith("# email/fr/confirmation.txt.j2\nObjet : Rendez-vous confirmé : ")
    assert "Bonjour Émilie," in email
    assert "(partie HTML : " in email
    sms = preview(Kind.REMINDER, Channel.SMS, Lang.EN, SETTINGS, cancel_open=False)
    assert "To cancel, call the clinic at 514-555-0123." in sms
    assert sms.rstrip().endswith("-- GSM-7, 155 characters, 1 segment(s)")
    voice = preview(Kind.NO_SHOW, Channel.VOICE, Lang.EN, SETTINGS)
    assert "press 1" in voice


def test_preview_of_an_sms_that_cannot_fit_says_it_would_not_be_sent() -> None:
    tight = Settings(sms_segment_budget=1)
    sms = preview(Kind.CONFIRMATION, Channel.SMS, Lang.FR, tight)
    assert sms == ("# sms/fr/confirmation.txt.j2\n"
                   "-- non envoyé : 2 segments SMS même abrégé, au-delà du maximum de 1")
    fitted = preview(Kind.NO_SHOW, Channel.SMS, Lang.EN, tight)
    assert fitted.endswith(", fitted: optional sentences left out")


def test_missing_folder_fails(tmp_path: Path) -> None:
    code, output = lint(tmp_path / "nowhere")
    assert code == 1
    assert problems(output) == [f"PROBLEM {tmp_path / 'nowhere'}: no such folder"]
