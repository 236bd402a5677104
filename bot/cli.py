"""The ``rhi`` command: where every process is put together.

Each command imports what it needs when it runs (the late imports below are on purpose): ``rhi scripts
validate`` or ``rhi --help`` then start without loading the web app, the database drivers or the
safeguarding model, and a command's missing piece cannot stop the others.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from models import Channel

DEMO_PORT = 8080
SERVE_THREADS = 4  # per worker, on PostgreSQL with Telegram on (see serve_threads)


def serve_threads(database_url: str, channels: frozenset[Channel]) -> int:
    """Threads per worker: one is worth adding only to serve a request while another waits on something slow.

    A Telegram webhook sends its answer through Telegram's API before it returns: on PostgreSQL a worker
    serves others meanwhile. An SMS webhook answers in its own response and waits only on the database. With
    the database on the same machine, more threads there only make each message cost more CPU (they take turns
    on Python's lock; ``benchmarks/bench_threads.py`` measures it). SQLite takes one writer at a time and makes
    the others sleep and retry, so more threads only add waits. With the database across a network, try
    ``--threads``.
    """
    from models import Channel

    if database_url.startswith("sqlite") or Channel.TELEGRAM not in channels:
        return 1
    return SERVE_THREADS


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rhi", description="Return Home Interview chatbot")
    commands = parser.add_subparsers(title="commands")

    demo = commands.add_parser("demo", help="run everything locally on SQLite, with demo data and a terminal chat")
    demo.add_argument("--load-only", action="store_true", help="create/update the database and demo data, then exit")
    demo.add_argument("--port", type=int, default=DEMO_PORT)
    demo.set_defaults(run=_demo)

    chat = commands.add_parser("chat", help="talk to the bot in the terminal as a new contact")
    chat.add_argument("--channel", choices=["sms", "telegram"], help="render replies as this channel would")
    chat.add_argument("--jsonl", action="store_true", help="one message per input line, one JSON line out each")
    chat.add_argument("--contact", help="carry on as this contact (any name) instead of a new one")
    chat.set_defaults(run=_chat)

    serve = commands.add_parser("serve", help="the web app under gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument(
        "--threads",
        type=int,
        help=f"threads per worker (default: 1; {SERVE_THREADS} on PostgreSQL with Telegram on, as its webhook waits"
        " on Telegram's API)",
    )
    serve.set_defaults(run=_serve)

    db = commands.add_parser("db", help="the database").add_subparsers(title="database commands")
    db.add_parser("upgrade", help="create or upgrade the database schema").set_defaults(run=_db_upgrade)
    db.add_parser(
        "reencrypt", help="re-encrypt every stored value under the first RHI_DATA_KEY (after a rotation)"
    ).set_defaults(run=_db_reencrypt)

    staff = commands.add_parser("staff", help="staff logins").add_subparsers(title="staff commands")
    clear_wait = staff.add_parser("clear-wait", help="let an email try to log in again now, after failed logins")
    clear_wait.add_argument("email")
    clear_wait.set_defaults(run=_staff_clear_wait)
    log_out = staff.add_parser("log-out", help="end every login a member of staff has, in every browser")
    log_out.add_argument("email")
    log_out.set_defaults(run=_staff_log_out)
    add_staff = staff.add_parser("add", help="a new account; prints a one-time password, changed at first login")
    add_staff.add_argument("email")
    add_staff.add_argument(
        "--role", required=True, help="duty_worker, provider_admin, coordinator, admin or commissioner"
    )
    add_staff.add_argument("--provider", metavar="SLUG", help="the provider they work for")
    add_staff.add_argument("--name", help="their name as colleagues see it (default: the email's first part)")
    add_staff.set_defaults(run=_staff_add)
    staff.add_parser("list", help="every staff account").set_defaults(run=_staff_list)
    disable = staff.add_parser("disable", help="stop an account logging in, and end its logins")
    disable.add_argument("email")
    disable.set_defaults(run=_staff_disable)
    reset = staff.add_parser("reset", help="a new one-time password (a forgotten password)")
    reset.add_argument("email")
    reset.set_defaults(run=_staff_reset)

    provider = commands.add_parser("provider", help="providers").add_subparsers(title="provider commands")
    add_provider = provider.add_parser("add", help="a provider and the areas it covers")
    add_provider.add_argument("slug")
    add_provider.add_argument("--name", required=True)
    add_provider.add_argument(
        "--name-cy", help="its name in Welsh, shown beside --name on the admin pages (messages name the service)"
    )
    add_provider.add_argument("--area", action="append", default=[], help="an area key it covers (repeat)")
    add_provider.add_argument("--webhook-url", help="where its events are sent")
    add_provider.add_argument("--default", action="store_true", help="messages from areas nobody covers go to it")
    add_provider.set_defaults(run=_provider_add)
    provider.add_parser("list", help="every provider, its areas and staff").set_defaults(run=_provider_list)
    token = provider.add_parser("token", help="a new API token and webhook secret, printed once")
    token.add_argument("slug")
    token.set_defaults(run=_provider_token)

    area = commands.add_parser("area", help="areas").add_subparsers(title="area commands")
    area.add_parser("list", help="every area, its names and who covers it").set_defaults(run=_area_list)
    name_area = area.add_parser("name", help="add an area or change its names")
    name_area.add_argument("key")
    name_area.add_argument("--en", help="its English name")
    name_area.add_argument("--cy", help="its Welsh name")
    name_area.set_defaults(run=_area_name)

    scripts = commands.add_parser("scripts", help="check and test the conversation scripts").add_subparsers(
        title="script commands"
    )
    validate = scripts.add_parser("validate", help="check scripts; FILE:LINE: problem for each error")
    validate.add_argument("paths", nargs="*")
    validate.add_argument("--report", action="store_true", help="also list Welsh waiting for review, SMS lengths")
    validate.set_defaults(run=_scripts_validate)
    transcripts = scripts.add_parser("test", help="run transcript tests against the scripts")
    transcripts.add_argument("paths", nargs="*")
    transcripts.add_argument("--scripts", help="folder of scripts to test (default: the built-in ones)")
    transcripts.set_defaults(run=_scripts_test)

    # Channel commands (telegram set-webhook) are added here.
    telegram = commands.add_parser("telegram", help="the Telegram bot").add_subparsers(title="telegram commands")
    set_webhook = telegram.add_parser(
        "set-webhook", help="tell Telegram to send updates to RHI_PUBLIC_BASE_URL/webhooks/telegram"
    )
    set_webhook.set_defaults(run=_telegram_set_webhook)

    worker = commands.add_parser("worker", help="the outbox relay (provider webhooks, messages) and periodic jobs")
    worker.add_argument("--relays", type=int, default=1, help="relay threads in this process (default 1)")
    worker.add_argument(
        "--max-age-hours",
        type=float,
        help="dead-letter an event not delivered after this long (default: RHI_OUTBOX_MAX_AGE_HOURS, else 72)",
    )
    worker.set_defaults(run=_worker)

    safeguarding = commands.add_parser("safeguarding", help="safeguarding tools").add_subparsers(title="commands")
    check = safeguarding.add_parser("check", help="one message per stdin line; one JSON line each")
    check.set_defaults(run=_safeguarding_check)
    train = safeguarding.add_parser("train", help="rebuild the model beside the lexicon from the labelled corpus")
    train.set_defaults(run=_safeguarding_train)
    evaluate = safeguarding.add_parser("evaluate", help="the detector's figures on the held-out set")
    on = evaluate.add_mutually_exclusive_group()
    on.add_argument("--training", action="store_const", const="training", dest="on", help="on the training corpus")
    on.add_argument(
        "--development",
        action="store_const",
        const="development",
        dest="on",
        help="on the development set (written apart, not trained on: where a change is tried first)",
    )
    evaluate.set_defaults(on="heldout", run=_safeguarding_evaluate)
    return parser


def _runtime(settings: Settings, *, demo: bool = False):  # type: ignore[no-untyped-def]
    from bot.runtime import Runtime
    from models.migrate import upgrade

    runtime = Runtime(settings, allow_key_file=demo)
    upgrade(settings.database_url)
    return runtime


def _load_demo(runtime) -> None:  # type: ignore[no-untyped-def]
    from bot.demo import load_demo_data

    with runtime.session() as session, session.begin():
        load_demo_data(session, runtime.clock(), runtime.timezone)


def _demo(args: argparse.Namespace) -> int:
    from bot.conversation.dispatcher import Dispatcher
    from bot.conversation.terminal import TerminalChat

    settings = load_settings()
    if "RHI_REQUIRE_TWO_FACTOR" not in os.environ:
        # The demo serves 127.0.0.1 only and its logins change at every start: its printed logins just work.
        settings = dataclasses.replace(settings, require_two_factor=False)
    runtime = _runtime(settings, demo=True)
    _load_demo(runtime)
    print(f"Database: {settings.database_url}")
    if args.load_only:
        runtime.close()
        print("Demo data loaded.")
        return 0
    address = _serve_in_background(runtime, args.port)
    print(f"Web app:  {address}/healthz")
    logins = _demo_logins(runtime)
    print(f"Demo logins: the provider queue at {address}/provider/ as {logins.email}, password {logins.password}")
    print(f"             the provider API at {address}/api/v1/ with Authorization: Bearer {logins.api_token}")
    from bot.demo import reset_demo_coordinator

    with runtime.session() as session, session.begin():
        studio_email, studio_password = reset_demo_coordinator(session)
    print(f"             the coordinators' studio at {address}/studio/ as {studio_email}, password {studio_password}")
    print("             (new ones each time the demo starts; run `rhi worker` beside it to send the outbox)")
    print("Chat: you are a new contact on the terminal channel.\n")
    chat = TerminalChat(Dispatcher(runtime))
    try:
        if sys.stdin.isatty():
            chat.run_interactive(sys.stdout)
        else:
            chat.run_jsonl(sys.stdin, sys.stdout)
    finally:
        runtime.close()
    return 0


def _demo_logins(runtime):  # type: ignore[no-untyped-def]
    from bot.demo import reset_demo_logins

    with runtime.session() as session, session.begin():
        return reset_demo_logins(session)


def _serve_in_background(runtime, port: int) -> str:  # type: ignore[no-untyped-def]
    from werkzeug.serving import make_server

    from webhooks.app import create_app

    try:
        server = make_server("127.0.0.1", port, create_app(runtime), threaded=True)
    except OSError:
        server = make_server("127.0.0.1", 0, create_app(runtime), threaded=True)  # the port is taken: any free one
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def _chat(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from bot.conversation.dispatcher import Dispatcher
    from bot.conversation.terminal import TerminalChat
    from models import Channel, Provider, default_database_url

    settings = load_settings()
    embedded = settings.database_url == default_database_url(settings.instance_dir)
    runtime = _runtime(settings, demo=embedded)
    with runtime.session() as session:
        has_provider = session.scalar(sa.select(sa.func.count()).select_from(Provider)) > 0
    if embedded and not has_provider:
        _load_demo(runtime)
        print("(loaded the demo provider, workers and times into the embedded database)", file=sys.stderr)
    chat = TerminalChat(Dispatcher(runtime), Channel(args.channel) if args.channel else Channel.TERMINAL, args.contact)
    try:
        if args.jsonl or not sys.stdin.isatty():
            chat.run_jsonl(sys.stdin, sys.stdout)
        else:
            chat.run_interactive(sys.stdout)
    finally:
        runtime.close()
    return 0


def _serve(args: argparse.Namespace) -> int:
    from bot.channels.config import enabled_channels
    from bot.runtime import Runtime
    from webhooks.app import create_app

    settings = load_settings()
    settings.require("data_keys", "secret_key")
    channels = enabled_channels(settings)  # a channel half set up stops here with one line, before any worker starts

    def load_app() -> Any:
        runtime = Runtime(settings)
        runtime.warm_up()
        return create_app(runtime)

    serve_wsgi(
        load_app,
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads or serve_threads(settings.database_url, channels),
    )
    return 0


def serve_wsgi(load_app: Callable[[], Any], *, host: str, port: int, workers: int, threads: int = 1) -> None:
    """Run a WSGI app under gunicorn as ``rhi serve`` does; each worker process builds its own app."""
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", None)  # an access log would hold chat ids in URLs of some channels

        def load(self) -> Any:
            app = load_app()
            # What a worker loads to start (the scripts, the lexicon) lives as long as it does: the garbage
            # collector need not look through it again on every collection.
            gc.freeze()
            return app

    _Server().run()


def _worker(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from bot.runtime import Runtime
    from bot.worker import Worker, max_age_from, run_until_signalled
    from models import default_database_url
    from models.migrate import current

    settings = load_settings()
    embedded = settings.database_url == default_database_url(settings.instance_dir)
    if args.relays < 1:
        raise ConfigError("error: --relays must be 1 or more")
    if args.max_age_hours is not None and args.max_age_hours <= 0:
        raise ConfigError("error: --max-age-hours must be above 0")
    max_age = timedelta(hours=args.max_age_hours) if args.max_age_hours else max_age_from(os.environ)
    # Several workers start at once in production, so the worker never migrates: `rhi db upgrade` does.
    if current(settings.database_url) is None:
        raise ConfigError("error: the database has no tables yet; run `rhi db upgrade` (or `rhi demo`) first")
    runtime = Runtime(settings, allow_key_file=embedded)
    try:
        return run_until_signalled(Worker(runtime, relays=args.relays, max_age=max_age))
    finally:
        runtime.close()


def _telegram_set_webhook(args: argparse.Namespace) -> int:
    from bot.channels.config import telegram_for
    from bot.channels.telegram import ALLOWED_UPDATES, close_telegram_senders

    settings = load_settings()
    settings.require("telegram_bot_token", "telegram_webhook_secret", "public_base_url")
    url = f"{settings.public_base_url}/webhooks/telegram"
    try:
        telegram_for(settings).set_webhook(url, str(settings.telegram_webhook_secret))
    finally:
        close_telegram_senders()
    print(f"Telegram will send {', '.join(ALLOWED_UPDATES)} updates to {url}")
    return 0


def _staff_runtime():  # type: ignore[no-untyped-def]
    from models import default_database_url

    settings = load_settings()
    return _runtime(settings, demo=settings.database_url == default_database_url(settings.instance_dir))


def _staff_clear_wait(args: argparse.Namespace) -> int:
    from bot.providers.accounts import clear_login_failures

    runtime = _staff_runtime()
    try:
        with runtime.session() as session, session.begin():
            cleared = clear_login_failures(session, args.email)
    finally:
        runtime.close()
    # The same for an email with no account: failures are counted for any email typed.
    print(f"{args.email} may log in again now." if cleared else f"{args.email} had no failed logins to clear.")
    return 0


def _staff_log_out(args: argparse.Namespace) -> int:
    from bot.providers.accounts import end_sessions, find_staff

    runtime = _staff_runtime()
    try:
        with runtime.session() as session, session.begin():
            user = find_staff(session, args.email)
            if user is not None:
                end_sessions(user)
    finally:
        runtime.close()
    if user is None:
        print(f"error: no member of staff has the email {args.email}", file=sys.stderr)
        return 1
    print(f"Every login of {args.email} has ended.")
    return 0


def _administer(change: Callable[[Any, datetime], Sequence[str]]) -> int:
    """Run one administrative change in one transaction: print its lines, or, when it is refused, one line on
    stderr, exit 1, and nothing changed (the transaction rolls back)."""
    from bot.admin import Refused

    runtime = _staff_runtime()
    try:
        with runtime.session() as session, session.begin():
            lines = change(session, runtime.clock())
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    print("\n".join(lines))
    return 0


def _staff_add(args: argparse.Namespace) -> int:
    from bot.admin.staff import add_staff, staff_role

    def change(session, now):  # type: ignore[no-untyped-def]
        made = add_staff(session, args.email, staff_role(args.role), args.provider, args.name)
        return [f"{made.user.email} ({made.user.role.value}) may log in at /login with the one-time password",
                f"    {made.password}", "which they must change at their first login."]  # fmt: skip

    return _administer(change)


def _staff_list(args: argparse.Namespace) -> int:
    from bot.admin.staff import all_staff

    def listing(session, now):  # type: ignore[no-untyped-def]
        return [f"{user.email}\t{user.role.value}\t{user.provider.slug if user.provider else '-'}\t"
                f"{'active' if user.active else 'disabled'}" for user in all_staff(session)]  # fmt: skip

    return _administer(listing)


def _staff_disable(args: argparse.Namespace) -> int:
    from bot.admin.staff import disable_staff

    return _administer(lambda session, now: [f"{disable_staff(session, args.email).email} can no longer log in."])


def _staff_reset(args: argparse.Namespace) -> int:
    from bot.admin.staff import reset_staff

    def change(session, now):  # type: ignore[no-untyped-def]
        made = reset_staff(session, args.email)
        return [f"{made.user.email}'s one-time password (to change at the next login):", f"    {made.password}"]

    return _administer(change)


def _provider_add(args: argparse.Namespace) -> int:
    from bot.admin.providers import add_provider

    def change(session, now):  # type: ignore[no-untyped-def]
        added = add_provider(session, args.slug, args.name, args.area, args.webhook_url, default=args.default,
                             name_cy=args.name_cy)  # fmt: skip
        areas = ", ".join(added.areas) or "no areas yet"
        default = " (the default provider)" if added.is_default else ""
        welsh = f" / {added.name_cy}" if added.name_cy else ""
        return [f"Added {added.slug} ({added.name}{welsh}), covering {areas}{default}.",
                f"Its API token and webhook secret: rhi provider token {added.slug}"]  # fmt: skip

    return _administer(change)


def _provider_list(args: argparse.Namespace) -> int:
    from bot.admin.providers import all_providers, staff_counts

    def listing(session, now):  # type: ignore[no-untyped-def]
        counts = staff_counts(session)
        return [f"{row.slug}\t{row.name}\t{','.join(row.areas) or '-'}\t{counts.get(row.id, 0)} staff"
                f"{chr(9) + 'default' if row.is_default else ''}" for row in all_providers(session)]  # fmt: skip

    return _administer(listing)


def _provider_token(args: argparse.Namespace) -> int:
    from bot.admin.providers import find_provider, rotate_credentials

    def change(session, now):  # type: ignore[no-untyped-def]
        made = rotate_credentials(session, find_provider(session, args.slug), now)
        grace = (f"the old secret still verifies until {made.previous_secret_until:%Y-%m-%d %H:%M} UTC"
                 if made.previous_secret_until else "")  # fmt: skip
        return [f"API token (the old one has stopped working): {made.api_token}",
                f"Webhook signing secret{' (' + grace + ')' if grace else ''}: {made.webhook_secret}",
                "Shown once: only the token's hash is kept."]  # fmt: skip

    return _administer(change)


def _area_list(args: argparse.Namespace) -> int:
    from bot.admin.areas import all_areas

    def listing(session, now):  # type: ignore[no-untyped-def]
        return [f"{row.key}\t{row.name_en}\t{row.name_cy}\t{row.provider.slug if row.provider else '-'}"
                for row in all_areas(session)]  # fmt: skip

    return _administer(listing)


def _area_name(args: argparse.Namespace) -> int:
    from bot.admin.areas import name_area

    def change(session, now):  # type: ignore[no-untyped-def]
        area = name_area(session, args.key, args.en, args.cy)
        return [f"{area.key}: {area.name_en} / {area.name_cy}"]

    return _administer(change)


def _db_upgrade(args: argparse.Namespace) -> int:
    from models.migrate import upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    print("The database is up to date.")
    return 0


def _db_reencrypt(args: argparse.Namespace) -> int:
    from models.rotation import reencrypt_all

    runtime = _staff_runtime()
    try:
        with runtime.session() as session, session.begin():
            changed = reencrypt_all(session)
    finally:
        runtime.close()
    print(f"{changed} stored values are now encrypted under the first key in RHI_DATA_KEY.")
    return 0


def _scripts_validate(args: argparse.Namespace) -> int:
    from conversations.validate import validate_command

    return validate_command(args.paths, sys.stdout, report=args.report)


def _scripts_test(args: argparse.Namespace) -> int:
    from bot.studio.transcripts import transcripts_command

    return transcripts_command(args.paths, sys.stdout, scripts_dir=args.scripts)


def _safeguarding_check(args: argparse.Namespace) -> int:
    from bot.safeguarding.cli import check_stream

    return check_stream(sys.stdin, sys.stdout)


def _safeguarding_train(args: argparse.Namespace) -> int:
    from bot.safeguarding.cli import train_command

    return train_command(sys.stdout, sys.stderr)


def _safeguarding_evaluate(args: argparse.Namespace) -> int:
    from bot.safeguarding.cli import evaluate_command

    return evaluate_command(sys.stdout, sys.stderr, on=args.on)


if __name__ == "__main__":
    sys.exit(main())
