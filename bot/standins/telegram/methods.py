"""The Bot API methods the stand-in implements, as plain functions of (state, params).

getUpdates waits, so it lives in the HTTP app; everything here answers at once.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from bot.standins.telegram import updates as make
from bot.standins.telegram.state import AnsweredCallback, ApiError, BotState, SentMessage
from bot.standins.telegram.wire import check_loopback

Handler = Callable[[BotState, dict[str, Any]], Any]

MAX_TEXT = 4096
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message")
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
              "code", "pre", "blockquote", "tg-emoji"}


def _required(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        raise ApiError(400, f"Bad Request: {name} is empty")
    return value


class _HtmlText(HTMLParser):
    """Strip Telegram HTML to the text a user sees; reject what Telegram cannot parse."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in _HTML_TAGS:
            raise ApiError(400, f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            raise ApiError(400, f'Bad Request: can\'t parse entities: Unexpected end tag "{tag}"')

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(text: str, parse_mode: str | None) -> str:
    """Return text as the user sees it: HTML markup removed and checked, other modes untouched."""
    if (parse_mode or "").upper() != "HTML":
        return text
    if re.search(r"<(?![/a-zA-Z])", text):
        raise ApiError(400, "Bad Request: can't parse entities: unexpected \"<\" in text")
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise ApiError(400, f'Bad Request: can\'t parse entities: Can\'t find end tag corresponding to start tag '
                            f'"{parser.open[-1]}"')
    return unescape("".join(parser.parts))


def _text(params: dict[str, Any]) -> str:
    text = visible_text(str(params.get("text") or ""), params.get("parse_mode"))
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if make.utf16_len(text) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def _markup(params: dict[str, Any]) -> dict[str, Any] | None:
    """Return the reply_markup, checking inline buttons as Telegram does."""
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _target(state: BotState, params: dict[str, Any], verb: str) -> SentMessage:
    if params.get("inline_message_id"):
        raise ApiError(400, "Bad Request: inline messages are not supported by the stand-in")
    message = state.find(_required(params, "chat_id"), int(_required(params, "message_id")))
    if message is None:
        raise ApiError(400, f"Bad Request: message to {verb} not found")
    return message


def send_message(state: BotState, params: dict[str, Any]) -> dict[str, Any]:
    """Post a text message from the bot."""
    chat_id = _required(params, "chat_id")
    text, markup = _text(params), _markup(params)
    message = SentMessage(chat_id, state.next_message_id(chat_id), text, markup, int(time.time()))
    state.store(message)
    return state.message_json(message)


def _edit(state: BotState, message: SentMessage, text: str, markup: dict | None) -> dict[str, Any]:
    inline = markup if markup and "inline_keyboard" in markup else None
    with state.lock:
        if message.text == text and message.reply_markup == inline:
            raise ApiError(400, NOT_MODIFIED)
        message.text, message.reply_markup, message.edit_date = text, inline, int(time.time())
        return state.message_json(message)


def edit_message_text(state: BotState, params: dict[str, Any]) -> dict[str, Any]:
    """Replace a message's text; like Telegram, an absent reply_markup removes the keyboard."""
    message = _target(state, params, "edit")
    return _edit(state, message, _text(params), _markup(params))


def edit_message_reply_markup(state: BotState, params: dict[str, Any]) -> dict[str, Any]:
    """Replace (or, if absent, remove) a message's inline keyboard."""
    message = _target(state, params, "edit")
    return _edit(state, message, message.text, _markup(params))


def delete_message(state: BotState, params: dict[str, Any]) -> bool:
    """Delete a bot message."""
    message = _target(state, params, "delete")
    return state.forget(message.chat_id, message.message_id)


def answer_callback_query(state: BotState, params: dict[str, Any]) -> bool:
    """Answer a button press once; unknown or already answered ids fail as on Telegram."""
    query_id = str(_required(params, "callback_query_id"))
    if not state.close_query(query_id):
        raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
    answer = AnsweredCallback(query_id, params.get("text"), bool(params.get("show_alert", False)), params.get("url"))
    with state.lock:
        state.answered_callbacks.append(answer)
    return True


def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def set_my_commands(state: BotState, params: dict[str, Any]) -> bool:
    """Store the command list for a scope and language."""
    commands = params.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise ApiError(400, "Bad Request: can't parse commands JSON object")
    for command in commands:
        if not _COMMAND_NAME.match(str(command.get("command", ""))):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
    with state.lock:
        state.commands[_commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands]
    return True


def get_my_commands(state: BotState, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the command list stored for exactly this scope and language."""
    with state.lock:
        return [dict(c) for c in state.commands.get(_commands_key(params), [])]


def delete_my_commands(state: BotState, params: dict[str, Any]) -> bool:
    """Forget the command list for a scope and language."""
    with state.lock:
        state.commands.pop(_commands_key(params), None)
    return True


def _is_loopback_http(url: str) -> bool:
    """Tell whether url is plain http to this machine (allowed here, unlike on Telegram, for local runs)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return False
    try:
        check_loopback(parts.hostname)
    except ValueError:
        return False
    return True


def set_webhook(state: BotState, params: dict[str, Any]) -> bool:
    """Record the webhook (nothing is delivered to it; tests post updates themselves)."""
    url = str(params.get("url") or "")
    if url and not (url.startswith("https://") or _is_loopback_http(url)):
        raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
    if params.get("drop_pending_updates"):
        state.drop_pending()
    with state.lock:
        state.webhook = {"url": url, "max_connections": int(params.get("max_connections") or 40),
                         "secret_token": params.get("secret_token")} if url else {}
        if params.get("allowed_updates") is not None:
            state.webhook["allowed_updates"] = list(params["allowed_updates"])
    return True


def delete_webhook(state: BotState, params: dict[str, Any]) -> bool:
    """Remove the webhook."""
    return set_webhook(state, {"url": "", "drop_pending_updates": params.get("drop_pending_updates")})


def get_webhook_info(state: BotState, params: dict[str, Any]) -> dict[str, Any]:
    """Return WebhookInfo (the secret token is never returned, as on Telegram)."""
    with state.lock:
        info = {"url": state.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": state.pending_count()}
        for key in ("max_connections", "allowed_updates"):
            if key in state.webhook:
                info[key] = state.webhook[key]
        return info


def send_chat_action(state: BotState, params: dict[str, Any]) -> bool:
    """Accept a typing (or other) indicator."""
    _required(params, "chat_id")
    _required(params, "action")
    return True


METHODS: dict[str, Handler] = {
    "getme": lambda state, params: dict(make.BOT_USER),
    "sendmessage": send_message,
    "editmessagetext": edit_message_text,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "answercallbackquery": answer_callback_query,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "sendchataction": send_chat_action,
    "logout": lambda state, params: True,
    "close": lambda state, params: True,
}
