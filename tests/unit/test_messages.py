"""Every template exists in every locale and renders without a missing variable."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from bot.adapters.messages import MessageRenderer
from bot.config import data_dir

renderer = MessageRenderer(data_dir("messages"))


def template_names(locale: str) -> set[str]:
    return {p.stem for p in (data_dir("messages") / locale).glob("*.j2")}


def test_english_and_spanish_ship_the_same_templates():
    assert renderer.locales() == ["en", "es"]
    assert template_names("en") == template_names("es")
    assert template_names("en")


@pytest.mark.parametrize("locale, progress", [("en", "2 of 9"), ("es", "2 de 9")])
def test_question_renders_progress_and_numbered_options(locale, progress):
    text = renderer.render(locale, "question", position=2, count=9, stem=None, preamble=None, text="Q?", multiple=False, options=["A", "B"])
    assert text.splitlines() == [progress, "Q?", "", "1. A", "2. B"]


def test_a_missing_variable_is_an_error_not_a_blank():
    with pytest.raises(UndefinedError):
        renderer.render("en", "question", position=1, count=2)


def test_a_missing_locale_is_an_error():
    with pytest.raises(LookupError):
        renderer.render("fr", "question")


def flow_template_names() -> set[str]:
    """Return every template name the flows and services ask for."""
    import re
    from pathlib import Path

    from bot.flows.prompts import PROMPTS

    names = {template for template, _ in PROMPTS.values()} | {"question", "page", "link_invalid", "not_enrolled", "group_refused"}
    for path in (Path(__file__).resolve().parents[2] / "bot").rglob("*.py"):
        names |= set(re.findall(r"\bsay\(\s*\"([a-z_]+)\"", path.read_text(encoding="utf-8")))
    names |= {"hint_multiple", "offer_call_later"}  # chosen by a conditional expression
    return names


def test_every_template_the_flows_use_exists_in_every_locale():
    names = flow_template_names()
    assert len(names) > 30
    for locale in renderer.locales():
        assert names - template_names(locale) == set(), locale


def test_translations_use_the_same_variables():
    from jinja2 import Environment, meta

    environment = Environment()
    for name in template_names("en"):
        variables = {}
        for locale in ("en", "es"):
            source = (data_dir("messages") / locale / f"{name}.j2").read_text(encoding="utf-8")
            variables[locale] = meta.find_undeclared_variables(environment.parse(source))
        assert variables["en"] == variables["es"], name


def test_words_have_the_same_commands_and_labels_in_every_locale():
    from bot.adapters.presenter import load_words

    words = load_words(data_dir("messages"))
    assert set(words.keywords["en"]) == set(words.keywords["es"])
    assert set(words.labels["en"]) == set(words.labels["es"])
    assert set(words.commands["en"]) == set(words.commands["es"]) == set(words.keywords["en"])
    assert words.command("/PAUSA") == "pause" and words.command("Atrás") == "back"
