"""Configuration from RHI_* environment variables, checked once at start-up.

A missing setting stops start-up with one line naming it; the demo needs none.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from models.db import default_database_url

DEFAULT_TIMEZONE = "Europe/London"
DEFAULT_SERVICE_NAME = "the Return Home service"
# Its Welsh name (DOMAIN.md: "Cyfweliad Dychwelyd Adref"); a proper name, so it reads in any Welsh sentence.
DEFAULT_SERVICE_NAME_CY = "Gwasanaeth Dychwelyd Adref"
DEFAULT_KEEP_CLOSED_DAYS = 90
DEFAULT_KEEP_UNREFERRED_DAYS = 30
OFF = ("0", "off", "false", "no")


class ConfigError(SystemExit):
    """Start-up cannot continue; the message is one line a person can act on."""


@dataclass(frozen=True)
class Settings:
    instance_dir: Path
    database_url: str
    data_keys: tuple[str, ...] = ()
    secret_key: str | None = None
    public_base_url: str | None = None
    telegram_bot_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    provider_webhook_url: str | None = None
    provider_webhook_secret: str | None = None
    redis_url: str | None = None  # shared rate limits (Telegram's 30 a second) across processes
    # Reverse proxies in front of the web app whose X-Forwarded-For/-Proto are believed; 0 believes none.
    trusted_proxies: int = 0
    service_name: str = DEFAULT_SERVICE_NAME
    service_name_cy: str = DEFAULT_SERVICE_NAME_CY  # {service_name} in Welsh messages
    timezone: str = DEFAULT_TIMEZONE
    # How long a young person's words are kept (``bot.admin.retention``): after the last activity on their
    # referrals once all are closed or declined, and after the last message of someone who never referred.
    keep_closed_days: int = DEFAULT_KEEP_CLOSED_DAYS
    keep_unreferred_days: int = DEFAULT_KEEP_UNREFERRED_DAYS
    # Two-factor sign-in for staff who can read children's messages (off only for a deployment that has
    # another second factor in front of the web app, such as single sign-on at its proxy).
    require_two_factor: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    def require(self, *names: str) -> None:
        """Stop with one clear line for the first setting among ``names`` that is not set."""
        for name in names:
            if not getattr(self, name):
                variable = "RHI_DATA_KEY" if name == "data_keys" else f"RHI_{name.upper()}"
                raise ConfigError(f"error: the setting {variable} is required here but is not set")


def load_settings(environ: Mapping[str, str] | None = None, instance_dir: Path | None = None) -> Settings:
    env = os.environ if environ is None else environ
    instance = Path(env.get("RHI_INSTANCE_PATH") or instance_dir or Path.cwd() / "instance")
    keys = tuple(key.strip() for key in env.get("RHI_DATA_KEY", "").split(",") if key.strip())

    def get(name: str, default: str | None = None) -> str | None:
        return env.get(f"RHI_{name}") or default

    return Settings(
        instance_dir=instance,
        database_url=get("DATABASE_URL") or default_database_url(instance),
        data_keys=keys,
        secret_key=get("SECRET_KEY"),
        public_base_url=(get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
        telegram_bot_token=get("TELEGRAM_BOT_TOKEN"),
        telegram_webhook_secret=get("TELEGRAM_WEBHOOK_SECRET"),
        telegram_api_base_url=get("TELEGRAM_API_BASE_URL", "https://api.telegram.org") or "",
        twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
        twilio_from=get("TWILIO_FROM"),
        twilio_api_base_url=get("TWILIO_API_BASE_URL", "https://api.twilio.com") or "",
        provider_webhook_url=get("PROVIDER_WEBHOOK_URL"),
        provider_webhook_secret=get("PROVIDER_WEBHOOK_SECRET"),
        redis_url=get("REDIS_URL"),
        trusted_proxies=_count(get("TRUSTED_PROXIES", "0") or "0", "RHI_TRUSTED_PROXIES"),
        service_name=get("SERVICE_NAME", DEFAULT_SERVICE_NAME) or DEFAULT_SERVICE_NAME,
        # A service that names itself but not in Welsh keeps its own name in Welsh too (a name is a name):
        # better than the default's Welsh name for a different service.
        service_name_cy=get("SERVICE_NAME_CY") or (get("SERVICE_NAME") or "").strip() or DEFAULT_SERVICE_NAME_CY,
        timezone=get("TIMEZONE", DEFAULT_TIMEZONE) or DEFAULT_TIMEZONE,
        keep_closed_days=_days(env, "RHI_KEEP_CLOSED_DAYS", DEFAULT_KEEP_CLOSED_DAYS),
        keep_unreferred_days=_days(env, "RHI_KEEP_UNREFERRED_DAYS", DEFAULT_KEEP_UNREFERRED_DAYS),
        require_two_factor=(env.get("RHI_REQUIRE_TWO_FACTOR") or "1").strip().lower()
        not in ("0", "off", "false", "no"),
    )


def _count(value: str, name: str) -> int:
    if not value.strip().isdigit():
        raise ConfigError(f"error: the setting {name} must be a whole number (0 or more), not {value!r}")
    return int(value)


def _days(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if not value:
        return default
    if not value.strip().isdigit() or int(value) < 1:
        raise ConfigError(f"error: the setting {name} must be a whole number of days (1 or more), not {value!r}")
    return int(value)
