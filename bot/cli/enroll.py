"""`carebridge enroll`: a one-time enrollment link (and QR code) for a patient, or a clinic's open code."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import segno
import typer
from telegram import Bot

from bot.cli.common import console, fail, services_or_exit
from bot.config import settings
from bot.services.enrollment import OPEN_ENROLLMENT_PREFIX, create_enrollment_token, start_link


def enroll(
    clinic: Annotated[str, typer.Option("--clinic", help="Clinic slug from the clinic file")],
    ref: Annotated[str | None, typer.Option("--ref", help="The clinic's own patient reference (kept private)")] = None,
    qr: Annotated[Path | None, typer.Option("--qr", help="Also write the link as a QR code PNG")] = None,
    days: Annotated[float, typer.Option("--days", help="Days until the link expires")] = 7,
    open_code: Annotated[bool, typer.Option("--open", help="The clinic's waiting-room code instead of a personal link")] = False,
    bot_username: Annotated[str | None, typer.Option("--bot-username", help="The bot's @username (default: asked of Telegram)")] = None,
) -> None:
    """Print a single-use https://t.me/<bot>?start=<token> link for one patient, optionally as a QR code."""
    services = services_or_exit()
    known = {c.slug: c for c in services.flow.config.clinics}
    if clinic not in known:
        fail(f"unknown clinic '{clinic}' (known: {', '.join(sorted(known))})")
    if days <= 0:
        fail("--days must be more than 0")
    username = bot_username or settings().telegram_bot_username or _ask_telegram()
    if open_code:
        if not known[clinic].open_enrollment:
            fail(f"clinic '{clinic}' does not allow open enrollment (open_enrollment = false in the clinic file)")
        link = start_link(username, f"{OPEN_ENROLLMENT_PREFIX}{clinic}")
    else:
        link = start_link(username, create_enrollment_token(services, clinic, ref, days))
    typer.echo(link)
    if qr is not None:
        segno.make(link, error="m").save(str(qr), scale=8, border=4)
        console.print(f"[dim]QR code written to {qr}[/dim]")


def _ask_telegram() -> str:
    current = settings()
    if not current.telegram_bot_token:
        fail("give --bot-username, or set TELEGRAM_BOT_USERNAME or TELEGRAM_BOT_TOKEN")

    async def username() -> str:
        async with Bot(current.telegram_bot_token, base_url=current.telegram_api_base_url) as bot:
            return bot.username

    return asyncio.run(username())
