"""The channels young people use: Telegram and SMS (Twilio). The scripts are the same on both; a channel
only reads what arrives and renders what goes out.

- ``telegram``: reading updates, and a sender for the Bot API that keeps to Telegram's pace.
- ``sms``: numbered lists in as few SMS parts as fit, TwiML, and the Twilio REST sender.
- ``inbound``: what the bot does with one verified delivery (the webhooks call it).
- ``deliver``: the outbox deliverer for ``channel_message`` events. Importing this package registers it,
  so every process that runs the relay imports ``bot.channels``.
- ``texts.yaml``: the few things a channel says by itself, in English and Welsh.
"""

from bot.channels import deliver as deliver

__all__ = ["deliver"]
