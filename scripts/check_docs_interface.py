"""Check that the manual names everything the interface contract names.

Usage: python scripts/check_docs_interface.py PATH/TO/INTERFACE.md

Reads every `dlquiz ...` command of the contract's command table, every `DLQUIZ_*`, `DISCORD_*`
and `SLACK_*` variable it mentions, and every subcommand of its `/dlquiz` table, and looks for
each in README.md and docs/ (with the files the pages include). Exits 1 and lists the names that
are missing; names in PENDING are skipped and listed, because their features are not built yet.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Names of the contract whose features are not built yet, so the manual does not document them
# as working. Each leaves this set in the change that builds its feature and documents it.
PENDING: frozenset[str] = frozenset()

VARIABLE = re.compile(r"\b(?:DLQUIZ|DISCORD|SLACK)_[A-Z0-9_]+\b")
CODE_SPAN = re.compile(r"`([^`]+)`")
# A command is its leading lowercase words, up to the first argument (`FILE`, `KEY`) or option
# (`[--db PATH]`, `--server KEY`); an option right after `dlquiz` is a command (`--version`).
COMMAND_WORD = re.compile(r"^[a-z][a-z-]*$")
TOP_OPTION = re.compile(r"^--[a-z][a-z-]*$")
# `--8<-- "path"`: a page includes a file from elsewhere in the repository (pymdownx.snippets).
INCLUDE = re.compile(r'^\s*--8<--\s+"([^"]+)"', re.MULTILINE)


def tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table as rows of cells, the header row first, the separator row dropped."""
    found: list[list[list[str]]] = []
    rows: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            # `\|` inside a cell is a literal bar, not a cell boundary.
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                rows.append(cells)
        elif rows:
            found.append(rows)
            rows = []
    return found


def command_names(cell: str) -> list[str]:
    """`dlquiz run slack [--port N]` -> ["dlquiz run slack"]; a cell may hold several commands."""
    names = []
    for span in CODE_SPAN.findall(cell):
        words = span.split()
        if not words or words[0] != "dlquiz":
            continue
        if len(words) > 1 and TOP_OPTION.match(words[1]):
            names.append(f"dlquiz {words[1]}")
            continue
        lead = ["dlquiz"]
        for word in words[1:]:
            if not COMMAND_WORD.match(word):
                break
            lead.append(word)
        names.append(" ".join(lead))
    return names


def contract_names(interface: str) -> tuple[list[str], list[str], list[str]]:
    """The commands, variables and /dlquiz subcommands the contract names, in order."""
    commands: list[str] = []
    subcommands: list[str] = []
    for table in tables(interface):
        header = table[0][0].lower()
        for row in table[1:]:
            if header == "command":
                commands += command_names(row[0])
            elif header == "subcommand":
                spans = CODE_SPAN.findall(row[0])
                if spans:
                    subcommands.append(spans[0].split()[0])
    variables = VARIABLE.findall(interface)
    return _unique(commands), _unique(variables), _unique(subcommands)


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def manual_text() -> str:
    """README.md, every page under docs/, and every file those pages include."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    texts = [page.read_text(encoding="utf-8") for page in pages]
    for text in list(texts):
        for included in INCLUDE.findall(text):
            texts.append((ROOT / included).read_text(encoding="utf-8"))
    return "\n".join(texts)


def documented(kind: str, name: str, text: str) -> bool:
    if kind == "variable":
        return re.search(rf"\b{re.escape(name)}\b", text) is not None
    if kind == "subcommand":
        # `/dlquiz stats` in prose, or a table row of the /dlquiz reference: | `stats [user]` |
        spoken = rf"/dlquiz {re.escape(name)}\b"
        listed = rf"^\|\s*`{re.escape(name)}[` ]"
        return re.search(f"{spoken}|{listed}", text, re.MULTILINE) is not None
    return re.search(rf"{re.escape(name)}(?![\w-])", text) is not None


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: check_docs_interface.py PATH/TO/INTERFACE.md", file=sys.stderr)
        return 2
    interface = Path(argv[0]).read_text(encoding="utf-8")
    commands, variables, subcommands = contract_names(interface)
    if not (commands and variables and subcommands):
        # An empty list means the contract's layout changed and this reader no longer follows it.
        print(f"{argv[0]}: found no commands, variables or subcommands to check", file=sys.stderr)
        return 2
    text = manual_text()
    missing: list[str] = []
    skipped: list[str] = []
    for kind, names in (
        ("command", commands),
        ("variable", variables),
        ("subcommand", subcommands),
    ):
        for name in names:
            if name in PENDING:
                skipped.append(name)
            elif not documented(kind, name, text):
                missing.append(f"{kind} {name}")
    checked = len(commands) + len(variables) + len(subcommands) - len(skipped)
    if skipped:
        print(f"pending, not checked ({len(skipped)}): {', '.join(skipped)}")
    if missing:
        print(f"missing from README.md and docs/ ({len(missing)}):")
        for entry in missing:
            print(f"  {entry}")
        return 1
    print(f"ok: {checked} names of {argv[0]} appear in README.md or docs/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
