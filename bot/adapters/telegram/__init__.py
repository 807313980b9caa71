"""Telegram adapter: Update -> domain event, outbox row -> Bot API call, via python-telegram-bot."""
