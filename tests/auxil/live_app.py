"""The whole web app on 127.0.0.1 for browser tests, on a SQLite database of its own with the demo loaded,
and young people texting it as Twilio delivers an SMS (a signed form post to the real webhook)."""

from __future__ import annotations

import threading
import uuid
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from bot.demo import load_demo_data
from bot.runtime import Runtime
from bot.settings import load_settings
from models.migrate import upgrade
from webhooks.app import create_app

# Debian's Chromium, never a downloaded browser.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PUBLIC_BASE_URL = "https://rhi.example.org"
TWILIO_AUTH_TOKEN = "browser-test-auth-token"
SERVICE_NUMBER = "+447700900000"


class LiveApp:
    def __init__(self, workdir: Path, data_key: str) -> None:
        url = f"sqlite:///{workdir / 'live.sqlite3'}"
        environ = {
            "RHI_DATABASE_URL": url,
            "RHI_DATA_KEY": data_key,
            "RHI_INSTANCE_PATH": str(workdir),
            "RHI_REQUIRE_TWO_FACTOR": "off",  # its own tests (tests/webhooks/test_two_factor.py) turn it on
            "RHI_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "RHI_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "RHI_TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
            "RHI_TWILIO_FROM": SERVICE_NUMBER,
            "RHI_TWILIO_API_BASE_URL": "http://127.0.0.1:9",  # nothing may leave by the REST API here
        }
        upgrade(url)
        self.runtime = Runtime(load_settings(environ))
        with self.runtime.session() as session, session.begin():
            load_demo_data(session, self.runtime.clock(), self.runtime.timezone)
        self.server = make_server("127.0.0.1", 0, create_app(self.runtime), threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def text_the_bot(self, sender: str, body: str) -> list[str]:
        """Send an SMS as Twilio would deliver it (signed form post); the messages of the TwiML answer."""
        fields = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": SERVICE_NUMBER,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": "2010-04-01",
        }
        signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(f"{PUBLIC_BASE_URL}/webhooks/sms", fields)
        request = Request(
            f"{self.base}/webhooks/sms",
            data=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        )
        with urlopen(request, timeout=30) as response:
            assert response.status == 200
            root = ElementTree.fromstring(response.read())
        return [message.text or "" for message in root.iter("Message")]

    def close(self) -> None:
        self.server.shutdown()
        self.runtime.close()
