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
