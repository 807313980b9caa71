"""A PHQ-9 bot written the way python-telegram-bot's examples do it: ConversationHandler + PicklePersistence.

The baseline the benchmark compares CareBridge with; not part of CareBridge. Usage:
    TELEGRAM_BOT_TOKEN=... TELEGRAM_API_BASE_URL=... python bench/baseline_bot.py STATE.pickle
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    PicklePersistence,
)

PHQ9 = yaml.safe_load((Path(__file__).resolve().parents[1] / "instruments" / "phq9.yaml").read_text(encoding="utf-8"))
QUESTIONS = [item["text"]["en"] for item in PHQ9["items"][:9]]
OPTIONS = [option["text"]["en"] for option in PHQ9["option_sets"]["frequency"]]
ASKING = 0


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=str(value))] for value, text in enumerate(OPTIONS)])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    context.user_data["answers"] = []
    await update.message.reply_text(f"1 of 9\n{QUESTIONS[0]}", reply_markup=keyboard())
    return ASKING


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await query.answer()
    answers = context.user_data.setdefault("answers", [])
    answers.append(int(query.data))
    await query.edit_message_text(f"{query.message.text}\n\n✓ {OPTIONS[int(query.data)]}")
    if len(answers) < len(QUESTIONS):
        number = len(answers) + 1
        await context.bot.send_message(query.message.chat_id, f"{number} of 9\n{QUESTIONS[number - 1]}", reply_markup=keyboard())
        return ASKING
    await context.bot.send_message(query.message.chat_id, f"Thank you. Your total is {sum(answers)}.")
    return ConversationHandler.END


def main() -> None:
    persistence = PicklePersistence(filepath=sys.argv[1])
    application = (
        Application.builder().token(os.environ["TELEGRAM_BOT_TOKEN"]).base_url(os.environ["TELEGRAM_API_BASE_URL"])
        .persistence(persistence).build()
    )
    conversation = ConversationHandler(
        entry_points=[CommandHandler("start", start)],
        states={ASKING: [CallbackQueryHandler(answer)]},
        fallbacks=[],
        name="phq9",
        persistent=True,
    )
    application.add_handler(conversation)
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
