"""The documentation an admin reads: every relative link opens, every command is named."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.conftest import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# [text](target) and [text](target "title"); images too.
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _relative_links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks hold no links
    return [target for target in _LINK.findall(text)
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) and not target.startswith("#")]


def test_the_docs_exist_and_link_to_each_other():
    names = {path.name for path in DOCUMENTS}
    assert {"README.md", "quality.md", "performance.md", "architecture.md"} <= names
    readme_links = {Path(unquote(t.split("#")[0])).name
                    for t in _relative_links(ROOT / "README.md")}
    assert {"quality.md", "performance.md", "architecture.md"} <= readme_links


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_relative_link_resolves(document: Path):
    links = _relative_links(document)
    assert links, f"{document.name} links to nothing"
    for target in links:
        resolved = (document.parent / unquote(target.split("#")[0])).resolve()
        assert resolved.exists(), f"{document.name}: {target} does not resolve"


def test_the_link_check_catches_a_broken_link(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text("[好](page.md) [坏](docs/missing.md) [外](https://example.org) [锚](#x)\n"
                    "```\n[代码里](nowhere.md)\n```\n", encoding="utf-8")
    links = _relative_links(page)
    assert links == ["page.md", "docs/missing.md"]
    assert not (tmp_path / "docs/missing.md").exists()


def _subcommands() -> list[str]:
    """The subcommands `lecture-bot --help` lists, from the real command's output."""
    done = subprocess.run([sys.executable, "-m", "bot.cli", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    (choices,) = re.findall(r"\{([a-z,]+)\}", done.stdout)[:1]
    return choices.split(",")


def test_every_subcommand_of_the_help_is_named_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    subcommands = _subcommands()
    assert {"ask", "chat", "start", "run"} <= set(subcommands)
    for name in subcommands:
        assert re.search(rf"lecture-bot {name}\b", readme), f"lecture-bot {name}"
