"""Code and docs speak of the product only: no process artefacts (stories, issues, who wrote what,
files that are not in the repository)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = {".git", ".venv", "var", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache"}
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".ini", ".txt", ".html", ".cfg"}
NAMES = {"Makefile", "Dockerfile", "run", ".importlinter"}
PROCESS = re.compile(
    r"\bstory[ _-]?\d|DOMAIN\.md|another\s+engineer|other\s+engineers"
    r"|\bthe [\w-]+ issue\b|\bthis issue\b|\bissue #?\d+",
    re.IGNORECASE,
)


def _files():
    for path in ROOT.rglob("*"):
        if path.is_file() and not SKIPPED & set(path.relative_to(ROOT).parts) and path != Path(__file__):
            if path.suffix in SUFFIXES or path.name in NAMES:
                yield path


def test_no_process_artefacts_in_code_or_docs():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _files()
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if PROCESS.search(line)
    ]

    assert found == []
