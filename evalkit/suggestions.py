""""Did you mean …?": the nearest known name to a mistyped one (suite names, model specs, flags)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: How alike two names must be (difflib's ratio) for one to be offered for the other.
CUTOFF = 0.6


def nearest(word: str, known: Iterable[str], *, cutoff: float = CUTOFF) -> str | None:
    """The known name most like ``word`` (compared without case), or None when none is alike enough.

    A name that ``word`` begins (``mathvista`` → ``MathVista_MINI``) wins over a merely similar one; among
    several, the most similar, then the first in ``known``'s order."""
    by_folded: dict[str, str] = {}
    for name in known:
        by_folded.setdefault(name.casefold(), name)
    folded = word.casefold()
    prefixed = [name for name in by_folded if len(folded) >= 3 and name.startswith(folded)]
    if prefixed:
        return by_folded[max(prefixed, key=lambda name: difflib.SequenceMatcher(None, folded, name).ratio())]
    matches = difflib.get_close_matches(folded, list(by_folded), n=1, cutoff=cutoff)
    return by_folded[matches[0]] if matches else None


def did_you_mean(suggestion: str | None) -> str:
    """``"; did you mean 'X'?"`` for a suggestion, else the empty string (to append to a message)."""
    return f"; did you mean '{suggestion}'?" if suggestion else ""
