"""House rules: the retrieval core imports nothing from Telegram; commands are documented."""

from __future__ import annotations

import ast

from bot import texts
from tests.conftest import ROOT

CORE_MODULES = ("lectures", "text", "search", "answer", "render", "knowledge", "navigation",
                "evaluation", "texts", "config", "store", "study", "publishing", "docx_reader",
                "thesaurus", "confidence")


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_does_not_import_telegram():
    for name in CORE_MODULES:
        imports = _imports(ROOT / "bot" / f"{name}.py")
        assert not any(i == "telegram" or i.startswith("telegram.") for i in imports), name
        assert "bot.app" not in imports and not any(i.startswith("bot.handlers") for i in imports)


def test_every_command_is_in_the_menu_and_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command, description in texts.all_commands():
        assert f"/{command}" in readme, command
        assert description
