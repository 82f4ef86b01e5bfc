"""What Python processes started by the tests need on their path."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SITE = Path(__file__).resolve().parent / "site"


def pythonpath() -> str:
    """The repository (so ``import evalkit`` finds this checkout) and the test-machine ``sitecustomize``."""
    return os.pathsep.join([str(REPO), str(SITE)])
