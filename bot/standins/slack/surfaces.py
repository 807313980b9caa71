"""The Web API methods for modals, App Home and file uploads, as plain functions of (state, params)."""

from __future__ import annotations

import copy
import json
from typing import Any

from bot.standins.slack.methods import Handler, blocks_of, required
from bot.standins.slack.records import APP_ID, BOT_ID, TEAM_ID, SlackError, SlackMessage, UploadedFile
from bot.standins.slack.state import SlackState

MAX_MODAL_STACK = 3
MAX_TITLE = 24


def _spec(params: dict[str, Any], kind: str) -> dict[str, Any]:
    """Return the view parameter, checked the way Slack checks it."""
    spec = params.get("view")
    if not isinstance(spec, dict) or spec.get("type") != kind:
        raise SlackError("invalid_arguments")
    blocks_of(spec, limit=100)
    if kind == "modal":
        title = (spec.get("title") or {}).get("text", "")
        if not title or len(title) > MAX_TITLE:
            raise SlackError("invalid_arguments")
    return spec


def _build(state: SlackState, spec: dict[str, Any], *, view_id: str | None = None, root: str | None = None,
           previous: str | None = None) -> dict[str, Any]:
    view_id = view_id or state.next_id("V")
    return {"id": view_id, "team_id": TEAM_ID, "type": spec["type"], "title": spec.get("title"),
            "submit": spec.get("submit"), "close": spec.get("close"), "blocks": copy.deepcopy(spec.get("blocks", [])),
            "private_metadata": spec.get("private_metadata", ""), "callback_id": spec.get("callback_id", ""),
            "external_id": spec.get("external_id", ""), "state": {"values": {}}, "hash": state.next_id("h"),
            "clear_on_close": bool(spec.get("clear_on_close")), "notify_on_close": bool(spec.get("notify_on_close")),
            "root_view_id": root or view_id, "previous_view_id": previous, "app_id": APP_ID, "bot_id": BOT_ID}


def open_view(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Open a modal for the user the trigger_id belongs to (replacing any open stack)."""
    spec = _spec(params, "modal")
    user = state.use_trigger(params.get("trigger_id")) or ""
    view = _build(state, spec)
    with state.lock:
        state.views[user] = [view]
        return {"view": copy.deepcopy(view)}


def push_view(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Push a modal on top of the user's open stack (at most three deep)."""
    spec = _spec(params, "modal")
    user = state.use_trigger(params.get("trigger_id")) or ""
    with state.lock:
        stack = state.views.get(user)
        if not stack:
            raise SlackError("not_found")
        if len(stack) >= MAX_MODAL_STACK:
            raise SlackError("push_limit_reached")
        view = _build(state, spec, root=stack[0]["id"], previous=stack[-1]["id"])
        stack.append(view)
        return {"view": copy.deepcopy(view)}


def find_view(state: SlackState, key: str) -> tuple[str, list[dict[str, Any]], int]:
    """Return (user, list holding it, index) for an open modal or home view by id, external_id or callback_id."""
    with state.lock:
        places = [(u, stack) for u, stack in state.views.items()] + [(u, [v]) for u, v in state.homes.items()]
        for field in ("id", "external_id", "callback_id"):
            for user, views in places:
                for index in range(len(views) - 1, -1, -1):
                    if key and views[index].get(field) == key:
                        return user, views, index
    raise SlackError("not_found")


def update_view(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Replace an open view's content, keeping its id (a stale hash is a hash_conflict)."""
    key = params.get("view_id") or params.get("external_id")
    if not key:
        raise SlackError("invalid_arguments")
    with state.lock:
        user, views, index = find_view(state, str(key))
        old = views[index]
        if params.get("hash") and params["hash"] != old["hash"]:
            raise SlackError("hash_conflict")
        view = _build(state, _spec(params, old["type"]), view_id=old["id"], root=old["root_view_id"],
                      previous=old["previous_view_id"])
        views[index] = view
        if old["type"] == "home":
            state.homes[user] = view
        return {"view": copy.deepcopy(view)}


def publish_view(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Publish a registered user's App Home."""
    user = str(required(params, "user_id"))
    spec = _spec(params, "home")
    with state.lock:
        if user not in state.users:
            raise SlackError("user_not_found")
        old = state.homes.get(user)
        if old and params.get("hash") and params["hash"] != old["hash"]:
            raise SlackError("hash_conflict")
        view = _build(state, spec, view_id=old["id"] if old else None)
        state.homes[user] = view
        return {"view": copy.deepcopy(view)}


def get_upload_url(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Announce a file and hand out a loopback URL to upload its bytes to."""
    filename = str(required(params, "filename"))
    try:
        length = int(required(params, "length"))
    except ValueError as exc:
        raise SlackError("invalid_arguments") from exc
    upload = UploadedFile(state.next_id("F"), filename, length, alt_txt=params.get("alt_txt"))
    with state.lock:
        state.files[upload.id] = upload
    return {"upload_url": f"{state.origin}/upload/{upload.id}", "file_id": upload.id}


def complete_upload(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Finish uploads and share them in a channel (or thread) with the initial comment."""
    entries = params.get("files")
    if isinstance(entries, str):
        entries = json.loads(entries)
    if not isinstance(entries, list) or not entries:
        raise SlackError("invalid_arguments")
    channel = params.get("channel_id") or str(params.get("channels") or "").split(",")[0]
    channel = state.resolve(channel) if channel else None
    thread_ts = str(params["thread_ts"]) if params.get("thread_ts") else None
    with state.lock:
        uploads = [state.files.get(str(entry.get("id"))) for entry in entries]
        if any(u is None or u.data is None or u.completed for u in uploads):
            raise SlackError("file_not_found")
        ts = state.next_ts() if channel else None
        for upload, entry in zip(uploads, entries):
            upload.title, upload.completed = entry.get("title") or upload.filename, True
            upload.channel_id, upload.thread_ts, upload.message_ts = channel, thread_ts, ts
            upload.initial_comment = params.get("initial_comment")
        files = [u.to_json() for u in uploads]
        if channel and ts:
            state.store(SlackMessage(channel, ts, params.get("initial_comment") or "", thread_ts=thread_ts,
                                     files=files))
    return {"files": files}


SURFACE_METHODS: dict[str, Handler] = {
    "views.open": open_view,
    "views.push": push_view,
    "views.update": update_view,
    "views.publish": publish_view,
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}


def answer_submission(state: SlackState, user: str, key: str, answer: dict[str, Any] | None) -> None:
    """Apply the app's answer to a view_submission to the user's modal stack, as Slack does."""
    action = (answer or {}).get("response_action")
    with state.lock:
        stack = state.views.get(user, [])
        found = [i for i, v in enumerate(stack) if key in (v["id"], v.get("external_id"), v.get("callback_id"))]
        if not found or action == "errors":
            return
        index = found[-1]
        if action == "clear":
            stack.clear()
        elif action == "update":
            old = stack[index]
            stack[index] = _build(state, _spec(answer or {}, "modal"), view_id=old["id"], root=old["root_view_id"],
                                  previous=old["previous_view_id"])
        elif action == "push":
            stack.append(_build(state, _spec(answer or {}, "modal"), root=stack[0]["id"], previous=stack[-1]["id"]))
        else:
            del stack[index:]  # an empty 200 closes the submitted view
