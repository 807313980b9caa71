"""The core never imports a framework: flows and instruments stay pure."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
CORE = ["flows", "instruments", "domain", "services"]
FORBIDDEN = {"telegram", "slack_bolt", "slack_sdk", "sqlmodel", "sqlalchemy", "jinja2", "httpx", "aiohttp"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def core_files() -> list[Path]:
    files = []
    for name in CORE:
        package, module = BOT / name, BOT / f"{name}.py"
        files += sorted(package.rglob("*.py")) if package.is_dir() else []
        files += [module] if module.is_file() else []
    return files


def test_core_modules_exist():
    assert any(p.parent.name == "flows" for p in core_files())
    assert any(p.parent.name == "instruments" for p in core_files())


def test_core_imports_no_framework():
    offenders = {str(p.relative_to(BOT)): sorted(imported_roots(p) & FORBIDDEN) for p in core_files()}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_itself_catches_a_forbidden_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom telegram.ext import Application\nimport jinja2 as j\n")
    assert imported_roots(sample) & FORBIDDEN == {"telegram", "jinja2"}
