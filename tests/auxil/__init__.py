"""Fakes at the network edge (a local Telegram Bot API and Twilio API) and the people who use them."""
