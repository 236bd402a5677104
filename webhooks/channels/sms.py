"""``POST /webhooks/sms`` (a text from a person) and ``POST /webhooks/sms/status`` (what became of ours).

Both are checked first with twilio's ``RequestValidator`` against ``RHI_PUBLIC_BASE_URL`` + path + query,
never ``request.url`` (behind a proxy that is not the URL Twilio signed); else 403 and nothing stored. The
reply to a text comes back in the TwiML of the same response; a repeated MessageSid gets the same TwiML.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, request
from twilio.request_validator import SIGNATURE_HEADER, RequestValidator

from bot.channels.config import sms_status_url
from bot.channels.inbound import on_sms, on_sms_status
from bot.channels.sms import MalformedSms, parse_inbound, parse_status, twiml
from webhooks.channels.common import bodies_over_the_limit_are_413, database_errors_are_503, runtime

sms = Blueprint("sms", __name__)
bodies_over_the_limit_are_413(sms)
database_errors_are_503(sms)


def _verify() -> None:
    """403 unless Twilio signed this request for the public URL; 400 when the form cannot be read."""
    settings = runtime().settings
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature or not settings.twilio_auth_token or not settings.public_base_url:
        abort(403)
    query = request.query_string.decode("latin-1")
    url = f"{settings.public_base_url}{request.path}" + (f"?{query}" if query else "")
    if not RequestValidator(settings.twilio_auth_token).validate(url, request.form, signature):
        abort(403)
    if request.mimetype != "application/x-www-form-urlencoded":
        abort(400)


@sms.post("/webhooks/sms")
def receive_text() -> Any:
    _verify()
    try:
        text = parse_inbound(request.form)
    except MalformedSms:
        abort(400)
    messages = on_sms(runtime(), text)
    return Response(twiml(messages, sms_status_url(runtime().settings)), mimetype="application/xml")


@sms.post("/webhooks/sms/status")
def receive_status() -> Any:
    _verify()
    try:
        report = parse_status(request.form)
    except MalformedSms:
        abort(400)
    on_sms_status(runtime(), report)
    return "", 204
