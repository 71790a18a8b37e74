"""NOTIFIER_TEMPLATES_DIR: a deployment's own templates, looked in before the shipped
ones, used by every process that writes to patients and checked by ``notifier lint``."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from notifier.cli import main
from notifier.domain import Lang
from notifier.lint import run_lint
from notifier.sending import SendOutcome
from notifier.settings import Settings
from notifier.store.intake import Intake
from notifier.web import create_app
from tests.factories import event, local
from tests.integration.conftest import Gateway
from tests.integration.test_inbound_webhook import TwilioSender, inbound_settings

REWORDED_SMS = (
    "{{ clinic }} : votre rendez-vous du {{ sms_date }} à {{ sms_time }} est noté. "
    "Textez ARRET pour ne plus recevoir de textos.\n"
)
REWORDED_STOP = "{{ sender_name }} : c'est noté, plus aucun texto. Textez REPRISE pour revenir.\n"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A NOTIFIER_* variable of the shell running the tests must not change their outcome."""
    for name in [name for name in os.environ if name.startswith("NOTIFIER_")]:
        monkeypatch.delenv(name)


def own_folder(root: Path, templates: dict[str, str]) -> Path:
    """A deployment's templates folder holding only ``templates`` (name: text)."""
    folder = root / "our-templates"
    for name, text in templates.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    folder.mkdir(exist_ok=True)
    return folder


def test_the_worker_sends_the_deployments_words_and_the_shipped_ones_for_the_rest(
    gateway: Gateway, tmp_path: Path
) -> None:
    folder = own_folder(tmp_path, {"sms/fr/confirmation.txt.j2": REWORDED_SMS})
    settings = gateway.settings.model_copy(update={"templates_dir": folder})
    now = gateway.clock()
    intake = Intake(gateway.client, gateway.settings)
    intake.accept(event("booked", start=local(2026, 12, 1, 9, 30), at=now,
                        modes=("sms", "email")), now)
    step = gateway.send_step(settings)
    for payload in intake.schedule.claim(now):
        assert step(json.loads(payload)) is SendOutcome.SENT

    sms = next(f for f in gateway.outbox_files() if "_sms_" in f.name).read_text()
    email = next(f for f in gateway.outbox_files() if "_email_" in f.name).read_text()
    assert "Clinique médicale du Plateau : votre rendez-vous du 2026-12-01 à 09:30 est noté." \
        in sms
    assert "Kind: confirmation" in email and "Émilie" in email


def test_a_keyword_reply_comes_from_the_deployments_folder(
    outbox: Path, tmp_path: Path, redis_client: redis.Redis
) -> None:
    folder = own_folder(tmp_path, {"replies/fr/stop.txt.j2": REWORDED_STOP})
    settings = inbound_settings(outbox, templates_dir=folder)
    with TestClient(create_app(settings, redis=redis_client)) as http:
        patient = TwilioSender(http)
        french = patient.reply("ARRET")
        english = patient.reply("STOP", number="+14165550199")

    assert french == ("Rendez-vous santé : c'est noté, plus aucun texto. "
                      "Textez REPRISE pour revenir.")
    assert english is not None and english.startswith("Rendez-vous santé - ")


def lint_with(folder: Path, monkeypatch: pytest.MonkeyPatch,
              capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setenv("NOTIFIER_TEMPLATES_DIR", str(folder))
    status = main(["lint"])
    return status, capsys.readouterr().out


def test_lint_checks_the_deployments_words_by_the_same_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = own_folder(tmp_path, {
        "sms/fr/confirmation.txt.j2": "Confirmé. Répondez ANNULER pour annuler.\n",
    })

    status, output = lint_with(folder, monkeypatch, capsys)

    assert status == 1
    assert output.startswith(f"Checking templates in {folder}, then the shipped ones in ")
    problems = [line for line in output.splitlines() if line.startswith("PROBLEM")]
    assert problems  # once per situation it was rendered in
    assert all(line.startswith("PROBLEM sms/fr/confirmation.txt.j2: invites patients to send "
                               "ANNULER") for line in problems)  # its English twin is shipped


def test_lint_passes_a_deployments_good_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = own_folder(tmp_path, {"sms/fr/confirmation.txt.j2": REWORDED_SMS,
                                   "replies/fr/stop.txt.j2": REWORDED_STOP})

    status, output = lint_with(folder, monkeypatch, capsys)

    assert status == 0, output
    assert "lint: 224 messages rendered, no problems" in output


def test_lint_finds_a_template_whose_name_no_message_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = own_folder(tmp_path, {"sms/fr/confirmaton.txt.j2": REWORDED_SMS,
                                   "sms/fr/_our_footer.txt.j2": "Clinique\n"})

    status, output = lint_with(folder, monkeypatch, capsys)

    assert status == 1
    assert ("PROBLEM sms/fr/confirmaton.txt.j2: no shipped template has this name, so no "
            "message uses it") in output
    # A part of the deployment's own, for its templates to include, is not a misnamed one.
    assert "_our_footer.txt.j2: no shipped template" not in output


def test_preview_shows_the_deployments_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = own_folder(tmp_path, {"sms/fr/confirmation.txt.j2": REWORDED_SMS})
    monkeypatch.setenv("NOTIFIER_TEMPLATES_DIR", str(folder))

    assert main(["preview", "confirmation", "--channel", "sms", "--lang", "fr"]) == 0
    assert "Clinique médicale du Plateau : votre rendez-vous du" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["lint"], ["scheduler"], ["web"], ["worker"]])
@pytest.mark.parametrize("problem", ["missing", "a file"])
def test_a_folder_that_is_not_there_stops_every_process_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    command: list[str], problem: str,
) -> None:
    wrong = tmp_path / "clinique-du-plateau-templates"
    if problem == "a file":
        wrong.write_text("not a folder")
    monkeypatch.setenv("NOTIFIER_TEMPLATES_DIR", str(wrong))

    assert main(command) == 2
    error = capsys.readouterr().err
    assert error == ("notifier: setting NOTIFIER_TEMPLATES_DIR is wrong: must be a folder "
                     "that exists (the deployment's own templates)\n")


def test_an_empty_setting_means_the_shipped_templates() -> None:
    assert Settings(templates_dir="").templates_dir is None  # type: ignore[arg-type]


def test_lint_says_it_in_french_too(tmp_path: Path) -> None:
    folder = own_folder(tmp_path, {"sms/fr/confirmaton.txt.j2": REWORDED_SMS,
                                   "sms/en/confirmaton.txt.j2": REWORDED_SMS})
    out = io.StringIO()

    status = run_lint(Settings(templates_dir=folder), out, lang=Lang.FR)

    assert status == 1
    output = out.getvalue()
    assert output.startswith(f"Vérification des gabarits dans {folder}, puis de ceux fournis "
                             "dans ")
    assert ("PROBLÈME sms/fr/confirmaton.txt.j2 : aucun gabarit fourni ne porte ce nom : "
            "aucun message ne l'utilise (vérifiez son nom et son dossier)") in output
