"""The package as a deployment installs it: a wheel in a fresh virtualenv, far from the
checkout, must check, show and send messages with nothing but what the wheel ships."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from notifier.local_redis import free_port
from notifier.web.console.passwords import hash_password
from tests.demo_run import outbox_names, run_demo_until
from tests.harness import wait_until

CHECKOUT = Path(__file__).resolve().parents[2]
# What a build reads: the rest (tests, the virtualenv, caches, an old build/) stays out,
# so that nothing stale or unshipped can make the wheel look complete.
BUILD_INPUTS = ("pyproject.toml", "README.md", "notifier", "templates")
# The demo's first messages, one per channel (outbox files are named after send keys).
FIRST_MESSAGES = (
    "0000000101_confirmation_sms_v1",
    "0000000101_confirmation_email_v1",
    "0000000102_confirmation_voice_v1",
)

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Installed:
    """A virtualenv holding the wheel of the checkout.

    Parameters:
      bin: its scripts folder (``notifier``, ``python``).
      cwd: an empty folder outside the checkout to run commands in.
      env: the environment for its commands: no NOTIFIER_* setting, no PYTHONPATH.
    """

    bin: Path
    cwd: Path
    env: dict[str, str]

    def run(self, *args: str, extra_env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / "notifier"), *args], cwd=self.cwd,
            env={**self.env, **(extra_env or {})},
            capture_output=True, text=True, timeout=timeout, check=False,
        )


def _copy_build_inputs(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    target.mkdir()
    for name in BUILD_INPUTS:
        source = CHECKOUT / name
        if source.is_dir():
            shutil.copytree(source, target / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(source, target / name)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    root = tmp_path_factory.mktemp("installed")
    source, wheels, venv, cwd = (root / name for name in ("source", "wheels", "venv", "cwd"))
    _copy_build_inputs(source)
    cwd.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("NOTIFIER_") and key not in ("PYTHONPATH", "PYTHONHOME")}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(source),
                    "-w", str(wheels)], cwd=cwd, env=env, check=True, timeout=300)
    (wheel,) = wheels.glob("notifier-*.whl")
    # A fresh virtualenv that borrows the dependencies already installed here (fast, and
    # no download), then gets the wheel itself: its copy of notifier comes first on its
    # path, and the checkout is not on it at all.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    (Path(site) / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # The borrowed folder lists this checkout's own editable install, which pip would
    # take for the wheel already installed; it never uninstalls outside the virtualenv.
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--force-reinstall", str(wheel)], cwd=cwd, env=env, check=True, timeout=300)
    found = subprocess.run([str(python), "-c", "import notifier; print(notifier.__file__)"],
                           cwd=cwd, env=env, capture_output=True, text=True, check=True)
    assert Path(found.stdout.strip()).is_relative_to(venv), found.stdout
    yield Installed(bin=venv / "bin", cwd=cwd, env=env)


def test_the_installed_lint_checks_the_shipped_catalogue(installed: Installed) -> None:
    done = installed.run("lint")

    assert done.returncode == 0, done.stdout + done.stderr
    # The same catalogue as this checkout's: every shipped template made it into the wheel.
    checkout = subprocess.run([sys.executable, "-m", "notifier", "lint"], capture_output=True,
                              text=True, check=True, timeout=120)
    summary = checkout.stdout.strip().splitlines()[-1]
    assert summary.endswith("messages rendered, no problems"), checkout.stdout
    assert done.stdout.strip().splitlines()[-1] == summary


def test_the_installed_preview_shows_a_message(installed: Installed) -> None:
    done = installed.run("preview", "confirmation", "--channel", "sms", "--lang", "fr")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# sms/fr/confirmation.txt.j2\n")
    assert "Rendez-vous confirmé pour Émilie" in done.stdout
    assert "\n-- GSM-7, " in done.stdout


def test_a_deployment_rewords_one_message_of_the_installed_catalogue(
    installed: Installed, tmp_path: Path
) -> None:
    own = tmp_path / "our-words"
    (own / "sms" / "fr").mkdir(parents=True)
    (own / "sms" / "fr" / "confirmation.txt.j2").write_text(
        "{{ clinic }} : votre rendez-vous du {{ sms_date }} à {{ sms_time }} est noté. "
        "Textez ARRET pour ne plus recevoir de textos.\n", encoding="utf-8")
    setting = {"NOTIFIER_TEMPLATES_DIR": str(own)}

    reworded = installed.run("preview", "confirmation", "--channel", "sms", "--lang", "fr",
                             extra_env=setting)
    shipped = installed.run("preview", "reminder", "--channel", "sms", "--lang", "fr",
                            extra_env=setting)
    lint = installed.run("lint", extra_env=setting)

    assert "Clinique médicale du Plateau : votre rendez-vous du" in reworded.stdout
    assert "Rappel" in shipped.stdout, shipped.stdout + shipped.stderr
    assert lint.returncode == 0, lint.stdout
    assert lint.stdout.startswith(f"Checking templates in {own}, then the shipped ones in "
                                  f"{installed.bin.parent}")


def test_the_installed_demo_sends_on_every_channel(installed: Installed, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    code, output = run_demo_until(
        [str(installed.bin / "notifier"), "demo"], cwd=installed.cwd,
        env={**installed.env, "NOTIFIER_OUTBOX_DIR": str(outbox)}, outbox=outbox,
        prefixes=set(FIRST_MESSAGES), timeout=90,
    )
    assert code == 0, output
    assert "Traceback" not in output
    names = outbox_names(outbox)
    for first in FIRST_MESSAGES:
        assert any(name.startswith(first) for name in names), (first, output)


def test_the_installed_web_serves_the_console_and_its_files(
    installed: Installed, redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {**installed.env, "NOTIFIER_REDIS_URL": redis_url,
           "NOTIFIER_API_TOKEN": "installed-package-api-token-01",
           "NOTIFIER_OPERATORS": f"alice:admin:*:{hash_password('installed-password')}",
           "NOTIFIER_CONSOLE_SECRET_KEY": "installed-package-console-secret-key-0001"}
    with (tmp_path / "web.log").open("wb") as log:
        web = subprocess.Popen([str(installed.bin / "notifier"), "web", "--host", "127.0.0.1",
                                "--port", str(port)], cwd=installed.cwd, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            wait_until(lambda: web.poll() is not None or _answers(http, "/healthz"),
                       timeout=30, what="the installed web process to answer")
            assert web.poll() is None, (tmp_path / "web.log").read_text()
            page = http.get("/console/sign-in")
            assert page.status_code == 200 and "<form" in page.text
            for name in ("console.css", "console.js", "docs.js"):
                assert http.get(f"/console/static/{name}").status_code == 200, name
    finally:
        web.terminate()
        web.wait(timeout=30)
    assert "Traceback" not in (tmp_path / "web.log").read_text()


def _answers(http: httpx.Client, path: str) -> bool:
    try:
        return http.get(path).status_code == 200
    except httpx.TransportError:
        return False
