"""A charity sets up its service from the command line: providers and their areas, tokens, staff accounts.

Every command that is refused says why in one line, exits non-zero and changes nothing."""

from __future__ import annotations

import os
import re

import pytest
import sqlalchemy as sa
from auxil.staff import csrf, log_in

from bot import cli
from bot.routing import provider_for_area
from models import Area, Provider, StaffUser, crypto
from webhooks.app import create_app


@pytest.fixture
def command_env(runtime, database_url, data_key, tmp_path, monkeypatch):
    for name, value in {"RHI_DATABASE_URL": database_url, "RHI_DATA_KEY": data_key,
                        "RHI_INSTANCE_PATH": str(tmp_path), "RHI_SECRET_KEY": "test secret"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)


@pytest.fixture
def rhi(command_env, capsys):
    """Run one ``rhi`` command: (exit code, what it printed, what it said on stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        printed = capsys.readouterr()
        return code, printed.out, printed.err

    return run


def everything(runtime) -> tuple:
    """Every provider, area and account, to show a refused command changed nothing."""
    with runtime.session() as session:
        return (
            session.execute(
                sa.select(Provider.slug, Provider.name, Provider.is_default, Provider.api_token_hash)
            ).all(),
            session.execute(sa.select(Area.key, Area.name_en, Area.provider_id).order_by(Area.key)).all(),
            session.execute(
                sa.select(StaffUser.email, StaffUser.role, StaffUser.active, StaffUser.password_hash)
            ).all(),
        )


def test_a_provider_is_added_with_its_areas_and_young_people_there_reach_it(runtime, rhi):
    code, out, _ = rhi("provider", "add", "valleys", "--name", "Valleys Return Home", "--area", "rhondda_cynon_taf",
                       "--area", "merthyr_tydfil", "--webhook-url", "https://valleys.example/rhi")  # fmt: skip
    assert code == 0 and "covering merthyr_tydfil, rhondda_cynon_taf" in out
    code, out, _ = rhi("provider", "list")
    assert re.search(r"valleys\tValleys Return Home\tmerthyr_tydfil,rhondda_cynon_taf\t0 staff", out)
    assert re.search(r"demo\t.*\tdefault", out)
    code, out, _ = rhi("area", "list")
    assert "rhondda_cynon_taf\tRhondda Cynon Taf\tRhondda Cynon Taf\tvalleys" in out
    assert "merthyr_tydfil\tMerthyr Tydfil\tMerthyr Tudful\tvalleys" in out
    with runtime.session() as session:
        assert provider_for_area(session, "merthyr_tydfil").slug == "valleys"
        assert provider_for_area(session, "cardiff").slug == "demo"
        assert provider_for_area(session, "powys").slug == "demo"  # nobody covers it: the default provider


def test_a_provider_gets_a_welsh_name_with_name_cy(runtime, rhi):
    code, out, _ = rhi("provider", "add", "gwent", "--name", "Gwent Return Home", "--name-cy", "Dychwelyd Adref Gwent")
    assert code == 0 and "Added gwent (Gwent Return Home / Dychwelyd Adref Gwent)" in out
    with runtime.session() as session:
        gwent = session.scalars(sa.select(Provider).where(Provider.slug == "gwent")).one()
        assert (gwent.name, gwent.name_cy) == ("Gwent Return Home", "Dychwelyd Adref Gwent")


def test_an_area_nobody_covered_can_be_named_and_still_goes_to_the_default_provider(runtime, rhi):
    assert rhi("area", "name", "powys", "--cy", "Powys (Cymraeg)")[0] == 0
    out = rhi("area", "list")[1]
    assert "powys\tPowys\tPowys (Cymraeg)\t-" in out
    with runtime.session() as session:
        assert provider_for_area(session, "powys").slug == "demo"


@pytest.mark.one_database  # refused before anything the database does differently
@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["provider", "add", "demo", "--name", "Again"], "there is already a provider demo"),
        (["provider", "add", "valleys", "--name", "V", "--area", "cardiff"], "already covered by the provider demo"),
        (["provider", "add", "valleys", "--name", "V", "--area", "Cardiff City!"], "is not an area key"),
        (["provider", "add", "Valleys Home", "--name", "V"], "is not a provider slug"),
        (["provider", "add", "valleys", "--name", " "], "a provider's name must be"),
        (["provider", "add", "valleys", "--name", "V", "--name-cy", "x" * 201], "a provider's Welsh name must be"),
        (["provider", "add", "valleys", "--name", "V", "--webhook-url", "ftp://x"], "is not a web address"),
        (["provider", "token", "nobody"], "there is no provider nobody"),
        (
            ["staff", "add", "gwen@valleys.example", "--provider", "nobody", "--role", "duty_worker"],
            "no provider nobody",
        ),
        (["staff", "add", "duty@demo.example", "--provider", "demo", "--role", "duty_worker"], "already a member"),
        (["staff", "add", "gwen@valleys.example", "--provider", "demo", "--role", "boss"], "is not a role"),
        (["staff", "add", "gwen@valleys.example", "--role", "duty_worker"], "name it with --provider"),
        (["staff", "add", "cllr@council.example", "--provider", "demo", "--role", "commissioner"], "no --provider"),
        (["staff", "add", "not an email", "--provider", "demo", "--role", "duty_worker"], "is not an email"),
        (["staff", "disable", "nobody@demo.example"], "no member of staff"),
        (["staff", "reset", "nobody@demo.example"], "no member of staff"),
        (["area", "name", "powys", "--en", ""], "an area's name must be"),
    ],
)
def test_a_refused_command_says_why_in_one_line_and_changes_nothing(runtime, rhi, argv, says):
    from bot.demo import reset_demo_logins

    with runtime.session() as session, session.begin():
        reset_demo_logins(session)  # an account and a token that must stay as they are
    before = everything(runtime)
    code, out, err = rhi(*argv)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and says in err and err.count("\n") == 1
    assert everything(runtime) == before


def test_a_new_token_works_at_once_and_the_old_one_stops(runtime, rhi):
    client = create_app(runtime, {"TESTING": True}).test_client()
    tokens = []
    for _ in range(2):
        code, out, _ = rhi("provider", "token", "demo")
        assert code == 0
        tokens.append(re.search(r"API token .*: (rhi_\S+)", out).group(1))
        assert re.search(r"Webhook signing secret.*: whsec_\S+", out)
    old, new = tokens
    assert "the old secret still verifies until" in out
    assert client.get("/api/v1/workers", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    assert client.get("/api/v1/workers", headers={"Authorization": f"Bearer {old}"}).status_code == 401


def test_a_new_member_of_staff_must_choose_their_own_password_at_their_first_login(runtime, rhi):
    code, out, _ = rhi("staff", "add", "Gwen@Demo.example", "--provider", "demo", "--role", "duty_worker",
                       "--name", "Gwen Price")  # fmt: skip
    assert code == 0
    one_time = out.split("\n")[1].strip()
    client = create_app(runtime, {"TESTING": True}).test_client()
    response = log_in(client, "gwen@demo.example", one_time)
    assert response.headers["Location"] == "/password"
    assert client.get("/provider/").headers["Location"] == "/password"  # nothing else opens first
    page = client.get("/password").get_data(as_text=True)
    assert "one-time password" in page
    choose = {"csrf_token": csrf(page), "current_password": one_time}
    same = client.post("/password", data=choose | {"new_password": one_time, "new_password_again": one_time})
    assert same.status_code == 400
    mine = "a long password of my own"
    assert client.post("/password", data=choose | {"new_password": mine, "new_password_again": mine}).status_code == 302
    assert client.get("/provider/").status_code == 200
    code, out, _ = rhi("staff", "list")
    assert "Gwen@Demo.example\tduty_worker\tdemo\tactive" in out


def test_a_disabled_account_cannot_log_in_and_a_reset_gives_a_new_one_time_password(runtime, rhi):
    _, out, _ = rhi("staff", "add", "gwen@demo.example", "--provider", "demo", "--role", "provider_admin")
    client = create_app(runtime, {"TESTING": True}).test_client()
    log_in(client, "gwen@demo.example", out.split("\n")[1].strip())
    assert rhi("staff", "disable", "gwen@demo.example")[0] == 0
    assert client.get("/password").status_code == 302  # the login there ended
    assert "disabled" in rhi("staff", "list")[1]
    code, out, _ = rhi("staff", "reset", "gwen@demo.example")
    assert code == 0
    response = log_in(client, "gwen@demo.example", out.split("\n")[1].strip())
    assert response.headers["Location"] == "/password"


def test_a_coordinator_or_admin_may_work_for_no_provider(runtime, rhi):
    assert rhi("staff", "add", "cy@rhi.example", "--role", "coordinator")[0] == 0
    assert rhi("staff", "add", "root@rhi.example", "--role", "admin")[0] == 0
    assert "root@rhi.example\tadmin\t-\tactive" in rhi("staff", "list")[1]


def test_after_a_new_data_key_goes_first_reencrypt_leaves_nothing_needing_the_old_one(runtime, rhi, monkeypatch):
    secret = re.search(r"secret.*: (whsec_\S+)", rhi("provider", "token", "demo")[1]).group(1)
    new_key = crypto.generate_key()
    monkeypatch.setenv("RHI_DATA_KEY", f"{new_key},{os.environ['RHI_DATA_KEY']}")
    code, out, _ = rhi("db", "reencrypt")
    assert code == 0 and "encrypted under the first key" in out
    crypto.configure_keys([new_key])  # the old key is gone: everything must read with the new one alone
    with runtime.session() as session:
        assert session.scalars(sa.select(Provider.webhook_secret).where(Provider.slug == "demo")).one() == secret
