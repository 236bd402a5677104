"""The README's "Going live", followed exactly: its `rhi` commands on an empty database set up two providers with
their areas, staff of every role and tokens. Then a young person reaches the right provider, and each provider's
staff and token see only their own: every page and endpoint tried with the other provider's ids is 403 or 404.

And the compose file runs what the README says, in the order it says."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pyotp
import pytest
import yaml
from auxil.clock import SimulatedClock
from auxil.providers import self_referral
from auxil.staff import csrf, log_in
from conftest import Conversation, _builtin_catalog

from bot import cli
from bot.conversation.dispatcher import Dispatcher
from bot.runtime import Runtime
from bot.settings import load_settings
from models import Referral
from webhooks.app import create_app

ROOT = Path(__file__).resolve().parents[1]
OWN_PASSWORD = "a password of my very own"


def going_live_commands() -> list[list[str]]:
    """Every `rhi ...` line of the README's Going live section, as the shell would split it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Going live\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    return [
        shlex.split(line.strip()) for block in blocks for line in block.splitlines() if line.strip().startswith("rhi ")
    ]


@pytest.fixture
def live(database_url, data_key, session_factory, tmp_path, monkeypatch, capsys):
    """An empty database, set up by the README's commands: what they printed, and the service's runtime."""
    environ = {"RHI_DATABASE_URL": database_url, "RHI_DATA_KEY": data_key, "RHI_INSTANCE_PATH": str(tmp_path),
               "RHI_SECRET_KEY": "going live"}  # fmt: skip
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    printed: dict[str, str] = {}
    for argv in going_live_commands():
        assert cli.main(argv[1:]) == 0, argv
        printed[" ".join(argv[1:4])] = capsys.readouterr().out
    runtime = Runtime(load_settings(environ), catalog=_builtin_catalog())
    runtime.clock = SimulatedClock()  # two readings of a referral are the same moment
    yield printed, runtime
    runtime.close()


def token_of(printed: dict[str, str], slug: str) -> dict[str, str]:
    token = re.search(r"API token .*: (rhi_\S+)", printed[f"provider token {slug}"]).group(1)
    return {"Authorization": f"Bearer {token}"}


def logged_in(runtime, printed: dict[str, str], email: str):
    """A browser of ``email``, logged in with the one-time password the README's command printed, then their own
    password, and two-factor sign-in set up when their role can read children's messages."""
    one_time = printed[f"staff add {email}"].split("\n")[1].strip()
    client = create_app(runtime, {"TESTING": True}).test_client()
    assert log_in(client, email, one_time).headers["Location"] == "/password"
    form = {"csrf_token": csrf(client.get("/password").get_data(as_text=True)), "current_password": one_time,
            "new_password": OWN_PASSWORD, "new_password_again": OWN_PASSWORD}  # fmt: skip
    chosen = client.post("/password", data=form)
    if client.get(chosen.headers["Location"]).headers.get("Location") == "/two-factor":
        page = client.get("/two-factor").get_data(as_text=True)
        totp = pyotp.TOTP(re.search(r'id="totp-key">([A-Z2-7]+)<', page).group(1))
        form = {"csrf_token": csrf(page), "code": totp.at(runtime.clock())}
        assert client.post("/two-factor", data=form).status_code == 200
    return client


def refers_from(runtime, area: str, phone: str) -> Referral:
    Conversation(Dispatcher(runtime), "sms", phone).says(*self_referral(area=area))
    with runtime.session() as session:
        contact_referrals = [row for row in session.query(Referral).all() if row.area == area]
        [referral] = contact_referrals
        session.expunge(referral)
        return referral


def test_the_readmes_going_live_sets_up_a_service_where_each_provider_sees_only_its_own(live):
    printed, runtime = live
    assert "gwent\tGwent Return Home\tmonmouthshire,newport,torfaen\t2 staff" in printed["provider list"]
    assert re.search(r"cardiff-vale\t.*\tdefault", printed["provider list"])

    gwent_case = refers_from(runtime, "newport", "+447700900401")
    cardiff_case = refers_from(runtime, "cardiff", "+447700900402")
    with runtime.session() as session:
        slugs = {referral.area: referral.provider.slug for referral in session.query(Referral)}
    assert slugs == {"newport": "gwent", "cardiff": "cardiff-vale"}

    app = create_app(runtime, {"TESTING": True})
    gwent_api, cardiff_api = token_of(printed, "gwent"), token_of(printed, "cardiff-vale")
    client = app.test_client()
    workers = {slug: client.post("/api/v1/workers", json={"name": "Gwen"}, headers=auth).get_json()["id"]
               for slug, auth in (("gwent", gwent_api), ("cardiff-vale", cardiff_api))}  # fmt: skip
    mine = client.get("/api/v1/referrals", headers=gwent_api).get_json()["referrals"]
    assert [row["id"] for row in mine] == [gwent_case.id]

    # Everything Gwent's token and staff might ask for, with Cardiff and Vale's ids.
    theirs = {
        "referral_id": cardiff_case.id,
        "worker_id": workers["cardiff-vale"],
        "contact_id": cardiff_case.contact_id,
        "person_id": cardiff_case.contact_id,
    }
    adapter = app.url_map.bind("localhost")
    tried = 0
    manager, duty = (
        logged_in(runtime, printed, "manager@gwent.example"),
        logged_in(runtime, printed, "duty@gwent.example"),
    )
    for rule in app.url_map.iter_rules():
        if not rule.arguments or "GET" not in rule.methods or "static" in rule.endpoint:
            continue
        url = adapter.build(rule.endpoint, {name: theirs.get(name, cardiff_case.id) for name in rule.arguments})
        if rule.rule.startswith("/api/v1/"):
            answers = [client.get(url, headers=gwent_api)]
        elif rule.rule.startswith(("/provider/", "/admin/")):
            answers = [manager.get(url), duty.get(url)]
        else:
            continue
        for answer in answers:
            assert answer.status_code in (403, 404), (url, answer.status_code)
            assert "+447700900402" not in answer.get_data(as_text=True)
            tried += 1
    assert tried == 14  # every page and endpoint that takes an id, the person's page and a closed day's too
    # And every change, with the other provider's ids: refused, and their referral as it was.
    before = client.get(f"/api/v1/referrals/{cardiff_case.id}", headers=cardiff_api).get_json()
    token = csrf(manager.get("/admin/").get_data(as_text=True))
    for rule in app.url_map.iter_rules():
        methods = rule.methods - {"GET", "HEAD", "OPTIONS"}
        if not rule.arguments or not methods or not rule.rule.startswith(("/api/v1/", "/provider/", "/admin/")):
            continue
        url = adapter.build(rule.endpoint, {name: theirs.get(name, cardiff_case.id) for name in rule.arguments})
        for method in methods:
            if rule.rule.startswith("/api/v1/"):
                answer = client.open(url, method=method, json={}, headers=gwent_api)
            else:
                answer = manager.open(url, method=method, data={"csrf_token": token, "confirm": "erase"})
            # A page's form that does not validate goes back with a note (303); the referral is checked below.
            assert answer.status_code in (303, 400, 403, 404, 422), (method, url, answer.status_code)
    assert client.get(f"/api/v1/referrals/{cardiff_case.id}", headers=cardiff_api).get_json() == before
    coordinator = logged_in(runtime, printed, "coordinator@charity.example")
    assert coordinator.get(f"/provider/referrals/{gwent_case.id}").status_code == 403
    assert coordinator.get("/provider/").status_code == 403
    assert coordinator.get("/admin/people").status_code == 403
    assert coordinator.get("/studio/", follow_redirects=True).status_code == 200

    duty = logged_in(runtime, printed, "duty@cardiff-vale.example")
    assert duty.get(f"/provider/referrals/{cardiff_case.id}").status_code == 200  # their own opens
    assert duty.get("/studio/").status_code == 403
    publish = duty.post(
        "/studio/scripts/publish", data={"csrf_token": csrf(duty.get("/password").get_data(as_text=True))}
    )
    assert publish.status_code == 403

    admin = logged_in(runtime, printed, "admin@charity.example")
    assert admin.get(f"/admin/people/{gwent_case.contact_id}").status_code == 200  # an admin serves every provider
    manager = logged_in(runtime, printed, "manager@cardiff-vale.example")
    assert manager.get(f"/admin/people/{cardiff_case.contact_id}").status_code == 200
    assert manager.get(f"/admin/people/{gwent_case.contact_id}").status_code == 404


def test_the_compose_file_migrates_once_then_runs_the_web_app_and_the_worker():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker"}
    assert services["migrate"]["command"] == ["rhi", "db", "upgrade"] and services["migrate"]["restart"] == "no"
    assert services["web"]["command"][:2] == ["rhi", "serve"] and services["worker"]["command"] == ["rhi", "worker"]
    for name in ("migrate", "web", "worker"):
        assert services[name]["build"] == "." and services[name]["env_file"] == ".env"
        assert services[name]["environment"]["RHI_DATABASE_URL"].startswith("postgresql://rhi:")
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert (ROOT / services["web"]["build"] / "Dockerfile").exists()


def _compose_command() -> list[str] | None:
    """Docker's own `docker compose`, else Debian's docker-compose; None when neither is here."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_accepts_the_compose_file(tmp_path):
    command = _compose_command()
    if command is None:
        if os.environ.get("CI"):
            pytest.fail("CI must check the compose file: .ci/run installs Debian's docker-compose")
        pytest.skip("no docker compose here (.ci/run installs Debian's docker-compose)")
    shutil.copy(ROOT / "compose.yaml", tmp_path / "compose.yaml")
    (tmp_path / ".env").write_text("POSTGRES_PASSWORD=only-for-this-check\n", encoding="utf-8")
    checked = subprocess.run(
        [*command, "-f", str(tmp_path / "compose.yaml"), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "POSTGRES_PASSWORD": "only-for-this-check"},
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
