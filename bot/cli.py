"""The ``rhi`` command."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Sequence
from datetime import datetime

from bot.settings import ConfigError, Settings, load_settings

DEMO_PORT = 8080


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
    serve.set_defaults(run=_serve)

    db = commands.add_parser("db", help="the database").add_subparsers(title="database commands")
    db.add_parser("upgrade", help="create or upgrade the database schema").set_defaults(run=_db_upgrade)

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

    # The outbox relay (rhi worker) is added here.

    safeguarding = commands.add_parser("safeguarding", help="safeguarding tools").add_subparsers(title="commands")
    check = safeguarding.add_parser("check", help="one message per stdin line; one JSON line each")
    check.set_defaults(run=_safeguarding_check)
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
        load_demo_data(session, datetime.now(runtime.timezone).date(), runtime.timezone)


def _demo(args: argparse.Namespace) -> int:
    from bot.dispatcher import Dispatcher
    from bot.terminal import TerminalChat

    settings = load_settings()
    runtime = _runtime(settings, demo=True)
    _load_demo(runtime)
    print(f"Database: {settings.database_url}")
    if args.load_only:
        runtime.close()
        print("Demo data loaded.")
        return 0
    address = _serve_in_background(runtime, args.port)
    print(f"Web app:  {address}/healthz")
    print("Demo logins: none yet (the provider queue pages come with the provider queue work).")
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

    from bot.dispatcher import Dispatcher
    from bot.terminal import TerminalChat
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
    from gunicorn.app.base import BaseApplication

    from bot.runtime import Runtime
    from webhooks.app import create_app

    settings = load_settings()
    settings.require("data_keys", "secret_key")

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("accesslog", None)  # an access log would hold chat ids in URLs of some channels

        def load(self):  # type: ignore[no-untyped-def]
            return create_app(Runtime(settings))

    _Server().run()
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from models.migrate import upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    print("The database is up to date.")
    return 0


def _scripts_validate(args: argparse.Namespace) -> int:
    from conversations.validate import validate_command

    return validate_command(args.paths, sys.stdout, report=args.report)


def _scripts_test(args: argparse.Namespace) -> int:
    from bot.transcripts import transcripts_command

    return transcripts_command(args.paths, sys.stdout, scripts_dir=args.scripts)


def _safeguarding_check(args: argparse.Namespace) -> int:
    from bot.safeguarding.cli import check_stream

    return check_stream(sys.stdin, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
