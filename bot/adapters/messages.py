"""Render user-facing words from the Jinja2 templates in messages/<locale>/."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined


class MessageRenderer:
    """Render a named template in a locale; a missing template or variable is an error."""

    def __init__(self, messages_dir: Path):
        self.messages_dir = messages_dir
        self._environments: dict[str, Environment] = {}

    def locales(self) -> list[str]:
        """Return the locales that have a template folder."""
        return sorted(p.name for p in self.messages_dir.iterdir() if p.is_dir())

    def render(self, locale: str, name: str, **variables: object) -> str:
        """Return the text of template `name` in `locale`, stripped of outer blank lines."""
        return self._environment(locale).get_template(f"{name}.j2").render(**variables).strip()

    def _environment(self, locale: str) -> Environment:
        if locale not in self._environments:
            folder = self.messages_dir / locale
            if not folder.is_dir():
                raise LookupError(f"no messages for locale '{locale}' in {self.messages_dir}")
            self._environments[locale] = Environment(
                loader=FileSystemLoader(folder),
                undefined=StrictUndefined,
                autoescape=False,
                keep_trailing_newline=False,
                trim_blocks=True,
                lstrip_blocks=True,
                auto_reload=False,  # the words ship with a release: no file check at every message
            )
        return self._environments[locale]
