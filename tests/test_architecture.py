"""Imports between the top-level folders follow the table in docs/architecture.md.

The rules are import-linter contracts in `.importlinter`; this runs them, and checks that the table's
"may import" column and the contracts name the same folders, so neither can go stale alone.
"""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"backend", "api", "cases", "permissions", "audit", "notifications", "integrations", "plan_statistics",
           "service_directory", "demo"}
ROW = re.compile(r"^\| `(?P<folder>[a-z_]+)/` \|(?P<holds>[^|]*)\|(?P<imports>[^|]*)\|$")


def _table() -> dict[str, str]:
    """folder → its "may import" cell, for the folders the contracts cover."""
    rows = {}
    for line in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8").splitlines():
        match = ROW.match(line.strip())
        if match and match["folder"] in FOLDERS:
            rows[match["folder"]] = match["imports"]
    return rows


def _allowed_by_table(folder: str, cell: str) -> set[str]:
    """The folders a cell names in backticks (`cases`, `backend.request_id` → backend); "everything" is all."""
    if cell.strip().startswith("everything"):
        return FOLDERS - {folder}
    named = {name.split(".")[0] for name in re.findall(r"`([a-z_][a-z_.]*)`", cell)}
    return (named & FOLDERS) - {folder}


def _contracts() -> dict[str, set[str]]:
    """folder → the top-level folders its contract forbids (a folder without a contract may import all)."""
    parser = configparser.ConfigParser()
    parser.read(ROOT / ".importlinter", encoding="utf-8")
    forbidden: dict[str, set[str]] = {}
    for section in parser.sections():
        if not section.startswith("importlinter:contract:"):
            continue
        contract = parser[section]
        assert contract["type"] == "forbidden", section
        sources = contract["source_modules"].split()
        banned = {name for name in contract["forbidden_modules"].split() if "." not in name}
        for source in sources:
            if banned:
                assert source not in forbidden, f"{source}: one contract per folder names the folders it may not import"
                forbidden[source] = banned
    return forbidden


def test_the_table_covers_every_top_level_package():
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "benchmarks"}

    assert packages == FOLDERS
    assert set(_table()) == FOLDERS


def test_the_table_and_the_contracts_allow_the_same_imports():
    table, contracts = _table(), _contracts()

    for folder in sorted(FOLDERS):
        allowed = _allowed_by_table(folder, table[folder])
        by_contract = FOLDERS - {folder} - contracts.get(folder, set())
        assert allowed == by_contract, (
            f"{folder}/: docs/architecture.md allows {sorted(allowed)}, .importlinter {sorted(by_contract)}"
        )


def test_the_code_keeps_the_contracts():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
