"""Render Say effects and pages into the text and buttons that adapters deliver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.adapters.messages import MessageRenderer
from bot.domain.effects import Say
from bot.flows.parsing import Words

PAGE_LOCALE = "en"


def load_words(messages_dir: Path) -> Words:
    """Read every locale's words.yaml: keywords, yes/no words and button labels."""
    keywords, yes, no, labels, commands = {}, {}, {}, {}, {}
    for folder in sorted(p for p in messages_dir.iterdir() if p.is_dir()):
        data = yaml.safe_load((folder / "words.yaml").read_text(encoding="utf-8"))
        keywords[folder.name] = {k: tuple(v) for k, v in data["keywords"].items()}
        yes[folder.name] = tuple(data["yes_words"])
        no[folder.name] = tuple(data["no_words"])
        labels[folder.name] = dict(data["labels"])
        commands[folder.name] = dict(data["commands"])
    return Words(keywords=keywords, yes=yes, no=no, labels=labels, commands=commands)


class TemplatePresenter:
    """Render from messages/<locale>/; a missing template, variable or label is an error."""

    def __init__(self, renderer: MessageRenderer, words: Words):
        self.renderer = renderer
        self.words = words

    def patient_message(self, say: Say, locale: str) -> dict[str, Any]:
        """Return {'text', 'buttons'} for a patient in their language."""
        text = self.renderer.render(locale, say.template, **say.variables)
        buttons = [
            {"text": choice.text if choice.text is not None else self.words.labels[locale][choice.word], "data": choice.data}
            for choice in say.choices
        ]
        return {"text": text, "buttons": buttons}

    def toast(self, template: str, locale: str) -> str:
        """Return the short notice that answers a button press."""
        return self.renderer.render(locale, template)

    def label(self, word: str, locale: str) -> str:
        """Return a button label in a language."""
        return self.words.labels[locale][word]

    def team(self, template: str, **variables: Any) -> str:
        """Return a text the care team reads in Slack (messages/en/team/)."""
        return self.renderer.render(PAGE_LOCALE, template, **variables)

    def page(self, variables: dict[str, Any]) -> str:
        """Return the one-line text of a page to the clinic's team."""
        return self.renderer.render(PAGE_LOCALE, "page", **variables)
