"""House rules: the retrieval core imports nothing from Telegram; commands are documented."""

from __future__ import annotations

import ast

from bot import texts
from tests.conftest import ROOT

BOT = ROOT / "bot"
# Modules that must work without Telegram: the retrieval core, the stores, the pure rules.
TELEGRAM_FREE = sorted([*BOT.glob("core/*.py"), BOT / "texts.py", BOT / "config.py",
                        *BOT.glob("storage/*.py"), BOT / "stores.py", *BOT.glob("*/store.py"),
                        BOT / "study" / "rules.py", *BOT.glob("publishing/*.py"),
                        *BOT.glob("quiz/*.py"),
                        *(p for p in BOT.glob("records/*.py") if p.name != "delivery.py")])


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
    assert len(TELEGRAM_FREE) > 15
    for path in TELEGRAM_FREE:
        imports = _imports(path)
        assert not any(i == "telegram" or i.startswith("telegram.") for i in imports), path
        assert "bot.app" not in imports and not any(i.startswith("bot.handlers") for i in imports)
        assert "bot.services" not in imports, path


def test_the_retrieval_core_imports_no_feature_package():
    for path in BOT.glob("core/*.py"):
        imports = {i for i in _imports(path) if i.startswith("bot.")}
        assert all(i.startswith("bot.core") or i == "bot.texts" for i in imports), (path, imports)


def test_feature_packages_never_import_the_handlers():
    for path in BOT.glob("*/*.py"):
        if path.parent.name != "handlers":
            assert not any(i.startswith("bot.handlers") for i in _imports(path)), path


def test_every_command_is_in_the_menu_and_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command, description in texts.all_commands():
        assert f"/{command}" in readme, command
        assert description


def _callback_prefixes() -> dict[str, str]:
    """Every `*_PREFIX = "…:"` constant of the bot (button callback data), by name."""
    prefixes = {}
    for path in BOT.rglob("*.py"):
        if path.parent.name == "core":  # the core's prefixes are index terms, not buttons
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Assign):
                continue
            targets = [t for target in node.targets
                       for t in (target.elts if isinstance(target, ast.Tuple) else [target])]
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            for target, value in zip(targets, values, strict=False):
                if (isinstance(target, ast.Name) and target.id.endswith("_PREFIX")
                        and isinstance(value, ast.Constant) and isinstance(value.value, str)
                        and value.value.endswith(":")):
                    prefixes[f"{path.name}:{target.id}"] = value.value
    return prefixes


def test_button_prefixes_never_shadow_each_other():
    """A button's callback data is routed by its prefix: no prefix may start another."""
    prefixes = _callback_prefixes()
    assert len(prefixes) >= 10
    for name, prefix in prefixes.items():
        for other, value in prefixes.items():
            assert other == name or not value.startswith(prefix), (name, other)
