// The clinic sandbox page: poll /api/state, draw the phone and Slack, and turn clicks into /api actions.
"use strict";

const POLL_MS = 500;
const ui = {day: null, chat: null, user: null, where: null, seen: {}, drawn: {}, modalKey: null, busy: false};
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// mrkdwn as Slack shows it, kept simple: *bold* is bold, everything else is plain text.
function rich(text, mrkdwn) {
  const span = el("span", {class: "rich"});
  if (!mrkdwn) { span.textContent = text; return span; }
  let last = 0;
  for (const match of text.matchAll(/\*([^*\n]+)\*/g)) {
    span.append(text.slice(last, match.index), el("strong", {}, match[1]));
    last = match.index + match[0].length;
  }
  span.append(text.slice(last));
  return span;
}

function say(message, isError) {
  const status = $("status");
  status.textContent = message || "";
  status.classList.toggle("error", Boolean(isError));
}

async function post(path, body) {
  try {
    const response = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                                        body: JSON.stringify(body || {})});
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) { say(answer.error || `Failed (${response.status})`, true); return null; }
    say("");
    return answer;
  } catch (error) {
    say("The sandbox is not answering: is it still running?", true);
    return null;
  } finally {
    setTimeout(poll, 0);
  }
}

// -- state ---------------------------------------------------------------------------------

let polling = null, inFlight = false, again = false;

async function poll() {
  if (inFlight) { again = true; return; }
  inFlight = true;
  clearTimeout(polling);
  try {
    const query = new URLSearchParams({chat: ui.chat || "", user: ui.user || "", where: ui.where || ""});
    const response = await fetch(`/api/state?${query}`, {cache: "no-store"});
    const state = await response.json();
    if (!response.ok) showBanner(state.error || "Starting…");
    else draw(state);
  } catch (error) {
    showBanner("Reconnecting to the sandbox…");
  } finally {
    inFlight = false;
    polling = setTimeout(poll, again ? 0 : POLL_MS);
    again = false;
  }
}

function showBanner(text) {
  $("banner").hidden = !text;
  $("banner").textContent = text || "";
}

function draw(state) {
  if (state.day !== ui.day) newDay(state);
  showBanner(state.error);
  $("clock-label").textContent = state.clock.label;
  $("clock-zone").textContent = state.clock.zone;
  $("clock-ahead").textContent = state.clock.ahead ? `(${state.clock.ahead} ahead)` : "";
  drawPatients(state.patients);
  drawChat(state.chat);
  drawSlack(state);
}

function newDay(state) {
  Object.assign(ui, {day: state.day, chat: null, seen: {}, drawn: {}, modalKey: null});
  const setup = state.setup;
  $("new-clinic").replaceChildren(...setup.clinics.map((c) => el("option", {value: c.slug}, c.name)));
  const roles = {bh: "BH", care_manager: "care manager", pcp: "PCP"};
  const known = setup.clinicians.map((c) => c.id);
  $("clinician").replaceChildren(...setup.clinicians.map((c) =>
    el("option", {value: c.id}, `${c.name} (${roles[c.role] || c.role})`)));
  if (!known.includes(ui.user)) ui.user = setup.default_clinician;
  $("clinician").value = ui.user || "";
  const rooms = setup.channels.map((c) => c.id);
  if (!(rooms.includes(ui.where) || ui.where === "home" || ui.where === "dm")) ui.where = rooms[0] || "home";
  ui.setup = setup;
  $("modal-backdrop").hidden = true;
}

// -- the phone -------------------------------------------------------------------------------

function drawPatients(patients) {
  if (ui.chat === null && patients.length) ui.chat = patients[patients.length - 1].chat_id;
  const key = JSON.stringify([patients, ui.chat, ui.seen]);
  if (ui.drawn.patients === key) return;
  ui.drawn.patients = key;
  const clinicName = (slug) => (ui.setup.clinics.find((c) => c.slug === slug) || {}).name || slug;
  $("patient-list").replaceChildren(...patients.map((p) => {
    const fresh = p.chat_id !== ui.chat && p.count > (ui.seen[p.chat_id] || 0);
    return el("button", {type: "button", role: "tab", class: "patient-tab" + (fresh ? " fresh" : ""),
                         "aria-selected": String(p.chat_id === ui.chat), "data-chat": p.chat_id,
                         onclick: () => { ui.chat = p.chat_id; poll(); }},
              el("b", {}, p.label), el("small", {}, clinicName(p.clinic)), fresh ? el("span", {class: "dot"}, "new") : null);
  }));
  if (!patients.length) $("patient-list").append(el("p", {class: "empty"}, "No patients yet: press New patient."));
}

function drawChat(chat) {
  const on = Boolean(chat);
  $("chat-input").disabled = !on;
  $("composer").querySelector("button").disabled = !on;
  $("phone-title").textContent = on ? chat.label : "no patient yet";
  if (on) ui.seen[chat.chat_id] = chat.messages.length;
  const key = JSON.stringify(chat);
  if (ui.drawn.chat === key) return;
  ui.drawn.chat = key;
  const box = $("chat");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.replaceChildren(...(on ? chat.messages.map((m) => bubble(chat.chat_id, m)) : []));
  if (atBottom || ui.drawn.chatId !== (chat && chat.chat_id)) box.scrollTop = box.scrollHeight;
  ui.drawn.chatId = chat && chat.chat_id;
}

function bubble(chatId, message) {
  const rows = message.keyboard.map((row) => el("div", {class: "tg-row"}, row.map((button) => {
    if (button.url) return el("a", {class: "tg-button", href: button.url, target: "_blank", rel: "noopener"}, button.text);
    return el("button", {type: "button", class: "tg-button", disabled: button.data === undefined,
                         onclick: (event) => pressTelegram(event, chatId, message.id, button.data)}, button.text);
  })));
  return el("div", {class: `msg ${message.from}`, "data-id": message.id},
            el("div", {class: "bubble"}, el("span", {class: "text"}, message.text),
               message.edited ? el("small", {class: "edited"}, "edited") : null),
            rows.length ? el("div", {class: "tg-keyboard"}, rows) : null);
}

function pressTelegram(event, chatId, messageId, data) {
  event.target.closest(".tg-keyboard").querySelectorAll("button").forEach((b) => { b.disabled = true; });
  ui.drawn.chat = null;  // redraw from the next state, whatever it says
  post(`/api/patients/${chatId}/presses`, {message_id: messageId, data});
}

// -- Slack ---------------------------------------------------------------------------------------

function drawSlack(state) {
  const slack = state.slack;
  drawNav(slack);
  const title = ui.where === "home" ? "Home" : ui.where === "dm" ? "CareBridge (direct messages)"
    : "# " + ((ui.setup.channels.find((c) => c.id === ui.where) || {}).name || ui.where);
  $("slack-title").textContent = title;
  $("home-refresh").hidden = ui.where !== "home";
  const key = JSON.stringify([ui.where, ui.user, slack.messages, slack.home]);
  if (ui.drawn.slack !== key) {
    ui.drawn.slack = key;
    const box = $("slack-messages");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    if (ui.where === "home") {
      box.replaceChildren(slack.home ? el("div", {class: "home"}, parts(slack.home.parts, null, null))
        : el("p", {class: "empty"}, "Opening Home…"));
    } else {
      box.replaceChildren(...slack.messages.map((m) => slackMessage(m)));
      const none = ui.where === "dm" ? "No direct messages yet." : "No messages yet. Pages to the team appear here.";
      if (!slack.messages.length) box.append(el("p", {class: "empty"}, none));
      if (atBottom) box.scrollTop = box.scrollHeight;
    }
  }
  drawModal(slack.modal);
}

function drawNav(slack) {
  for (const [where, count] of Object.entries(slack.counts)) {
    if (where === ui.where) ui.seen["slack:" + where] = count;
  }
  const key = JSON.stringify([slack.counts, ui.where, ui.setup.channels]);
  if (ui.drawn.nav === key) return;
  ui.drawn.nav = key;
  const item = (where, label) => {
    const fresh = where !== ui.where && (slack.counts[where] || 0) > (ui.seen["slack:" + where] || 0);
    return el("button", {type: "button", class: "nav-item" + (where === ui.where ? " current" : "") + (fresh ? " fresh" : ""),
                         "aria-current": where === ui.where ? "page" : null, onclick: () => go(where)}, label);
  };
  $("slack-nav").replaceChildren(
    item("home", "Home"),
    el("div", {class: "nav-head"}, "Channels"),
    ...ui.setup.channels.map((c) => item(c.id, "# " + c.name)),
    el("div", {class: "nav-head"}, "Direct messages"),
    item("dm", "CareBridge"));
}

function go(where) {
  ui.where = where;
  ui.drawn.slack = null;
  if (where === "home") openHome();
  poll();
}

function openHome() {
  if (ui.user) post("/api/slack/home", {user: ui.user});
}

function slackMessage(message) {
  const files = message.files.map((f) => f.image
    ? el("figure", {class: "file"}, el("img", {src: f.url, alt: f.name}), el("figcaption", {}, f.name))
    : el("a", {class: "file", href: f.url}, f.name));
  const replies = message.replies.length
    ? el("div", {class: "thread"}, el("div", {class: "thread-count"},
        `${message.replies.length} ${message.replies.length === 1 ? "reply" : "replies"}`),
        message.replies.map((r) => slackMessage(r)))
    : null;
  return el("article", {class: "sl-msg" + (message.ephemeral ? " ephemeral" : ""), "data-ts": message.ts},
            el("div", {class: "sl-author"}, el("b", {}, message.author), el("span", {class: "app"}, "APP"),
               message.ephemeral ? el("small", {}, "Only visible to you") : null,
               message.edited ? el("small", {}, "(edited)") : null),
            parts(message.parts, message.channel, message.ts), files, replies);
}

function parts(list, channel, ts) {
  return list.map((part) => {
    if (part.kind === "header") return el("h3", {class: "sl-header"}, part.text);
    if (part.kind === "divider") return el("hr");
    if (part.kind === "context") return el("div", {class: "sl-context"}, rich(part.text, true));
    if (part.kind === "buttons") return el("div", {class: "sl-actions"}, part.buttons.map((b) => slackButton(b, channel, ts)));
    if (part.kind === "input") return field(part);
    return el("div", {class: "sl-text"}, rich(part.text, part.mrkdwn));
  });
}

function slackButton(button, channel, ts) {
  if (button.url) return el("a", {class: "sl-button", href: button.url, target: "_blank", rel: "noopener"}, button.label);
  return el("button", {type: "button", class: "sl-button " + (button.style || ""), disabled: !channel,
                       onclick: (event) => {
                         event.target.disabled = true;
                         ui.drawn.slack = null;
                         post("/api/slack/presses", {user: ui.user, channel, ts, action_id: button.action_id,
                                                     value: button.value, block_id: button.block_id});
                       }}, button.label);
}

// -- modals --------------------------------------------------------------------------------------

function drawModal(modal) {
  const key = modal ? `${modal.id}:${modal.hash}` : null;
  if (key === ui.modalKey) return;
  ui.modalKey = key;
  $("modal-backdrop").hidden = !modal;
  if (!modal) return;
  $("modal-title").textContent = modal.title;
  $("modal-submit").textContent = modal.submit || "Submit";
  $("modal-submit").hidden = !modal.submit;
  $("modal-close").textContent = modal.close;
  $("modal-body").replaceChildren(...parts(modal.parts, null, null));
  $("modal").dataset.view = modal.id;
  showErrors(modal.errors);
}

function field(part) {
  const e = part.element, name = part.block_id;
  let control;
  if (e.type === "plain_text_input") {
    control = e.multiline ? el("textarea", {name, maxlength: e.max_length, rows: 3})
      : el("input", {name, maxlength: e.max_length, autocomplete: "off"});
    control.value = e.initial || "";
  } else if (e.type === "static_select") {
    control = el("select", {name}, el("option", {value: ""}, "Choose…"),
                 e.options.map((o) => el("option", {value: o.value, selected: o.value === e.initial}, o.text)));
  } else if (e.type === "radio_buttons" || e.type === "checkboxes") {
    const kind = e.type === "radio_buttons" ? "radio" : "checkbox";
    const initial = [].concat(e.initial || []);
    control = el("div", {class: "choices"}, e.options.map((o) => el("label", {},
      el("input", {type: kind, name, value: o.value, checked: initial.includes(o.value)}), " ", o.text)));
  } else {
    control = el("p", {class: "sl-context"}, "(this kind of field is not shown in the sandbox)");
  }
  const labelled = e.type === "radio_buttons" || e.type === "checkboxes"
    ? el("fieldset", {class: "field", "data-block": name}, el("legend", {}, part.label, part.optional ? el("small", {}, " (optional)") : null), control)
    : el("label", {class: "field", "data-block": name}, el("span", {class: "label"}, part.label,
        part.optional ? el("small", {}, " (optional)") : null), control);
  if (part.hint) labelled.append(el("small", {class: "hint"}, part.hint));
  labelled.append(el("small", {class: "field-error", role: "alert"}));
  return labelled;
}

function showErrors(errors) {
  $("modal-body").querySelectorAll(".field").forEach((f) => {
    f.querySelector(".field-error").textContent = (errors || {})[f.dataset.block] || "";
  });
}

function answers() {
  const values = {};
  $("modal-body").querySelectorAll(".field").forEach((f) => {
    const name = f.dataset.block;
    const boxes = f.querySelectorAll("input[type=checkbox]");
    if (boxes.length) values[name] = [...boxes].filter((b) => b.checked).map((b) => b.value);
    else if (f.querySelector("input[type=radio]")) values[name] = (f.querySelector("input[type=radio]:checked") || {}).value || null;
    else if (f.querySelector("input, textarea, select")) values[name] = f.querySelector("input, textarea, select").value;
  });
  return values;
}

// -- wiring ---------------------------------------------------------------------------------------

$("new-patient").addEventListener("submit", async (event) => {
  event.preventDefault();
  const answer = await post("/api/patients", {clinic: $("new-clinic").value, how: $("new-how").value});
  if (answer) { ui.chat = answer.chat_id; poll(); }
});

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("chat-input").value;
  if (!text.trim() || !ui.chat) return;
  $("chat-input").value = "";
  post(`/api/patients/${ui.chat}/messages`, {text});
});

$("slack-composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const line = $("slack-input").value.trim();
  if (!line) return;
  if (!line.startsWith("/")) { say("CareBridge listens to slash commands: /consult, /oncall, /registry", true); return; }
  $("slack-input").value = "";
  post("/api/slack/commands", {user: ui.user, line, channel: ui.where === "home" ? "dm" : ui.where});
});

$("clinician").addEventListener("change", () => {
  ui.user = $("clinician").value;
  ui.drawn = {};
  ui.modalKey = null;
  if (ui.where === "home") openHome();
  poll();
});

$("home-refresh").addEventListener("click", openHome);

$("modal").addEventListener("submit", async (event) => {
  event.preventDefault();
  const view = $("modal").dataset.view;
  const answer = await post(`/api/slack/modals/${view}/submit`, {user: ui.user, values: answers()});
  if (answer) showErrors(answer.errors);
});

$("modal-close").addEventListener("click", () => {
  post(`/api/slack/modals/${$("modal").dataset.view}/close`, {user: ui.user});
});

document.querySelectorAll(".advance").forEach((button) => button.addEventListener("click", () => {
  post("/api/clock", {minutes: Number(button.dataset.minutes)});
}));

$("reset").addEventListener("click", async () => {
  say("Starting a fresh clinic day…");
  $("reset").disabled = true;
  const answer = await post("/api/reset", {});
  $("reset").disabled = false;
  if (answer) say(`Fresh clinic day started.`);
});

poll();
