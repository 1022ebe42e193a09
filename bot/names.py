"""Member names as they enter the quiz: one rule for every platform.

A display name is whatever a member typed into Discord or Slack. It ends up in leaderboards,
stats and reveals, often one name per line and padded into columns, so a name must not be able
to start a line of its own (a newline forges a leaderboard row), reorder the text around it
(bidi overrides and isolates) or hide characters (zero-width ones). Escaping for each
platform's markup stays the renderers' job: this only decides which characters a name keeps.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 80  # Slack's own display-name limit; Discord's is lower

# Cc: control characters (newline, tab, escape...); Cf: format characters, which include the
# bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069), the zero-width space, joiners and
# the byte-order mark; Cs: lone surrogates, which a JSON payload can carry but no font draws.
_DROPPED = frozenset(("Cc", "Cf", "Cs"))
_SPACES = re.compile(r"\s+")


def clean_name(*candidates: str | None, fallback: str) -> str:
    """The first candidate that says something once cleaned, as one short line: whitespace
    runs become one space, invisible and control characters are dropped, and the result is
    trimmed and cut to MAX_NAME characters.

    When no candidate does (none given, or only blanks and zero-width characters), the name is
    `fallback`, the member's id, cleaned the same way.
    """
    for candidate in (*candidates, fallback):
        name = clean_text(candidate or "")
        if name:
            return name
    return "?"  # an id of nothing but invisible characters: no platform issues one


def clean_text(text: str) -> str:
    """`text` cleaned as a name is, "" when nothing visible is left."""
    # Whitespace first, so a newline between two words leaves a space rather than gluing them.
    spaced = _SPACES.sub(" ", text)
    kept = "".join(c for c in spaced if unicodedata.category(c) not in _DROPPED)
    return _SPACES.sub(" ", kept).strip()[:MAX_NAME].rstrip()
