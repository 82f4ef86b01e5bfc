"""Every difference between the transformers releases evalkit supports, in one place.

evalkit runs on transformers ``>=4.51.3,<6`` (``SUPPORTED``, the range in ``pyproject.toml``; CI tests both
ends). The backends never compare versions themselves; they ask this module:

================================  ====================================  =====================================
what                              below the switch                      from the switch on
================================  ====================================  =====================================
dtype keyword of from_pretrained  ``torch_dtype=`` (before 4.56)        ``dtype=`` (4.56; ``torch_dtype``
                                                                        deprecated in 5.x)
================================  ====================================  =====================================

The rest is equal at both ends and needs no branch: ``AutoModelForImageTextToText`` (4.46+), the processors'
``apply_chat_template`` (its output is tested equal), ``generate``'s keyword arguments and caches.

Checkpoint code that ships with a model (``trust_remote_code``) has its own range, narrower than evalkit's:
InternVL-Chat-V1.5's code loads and generates on transformers 4.37.2 through 4.51.3 only (from 4.52
``configuration_internvl_chat.py`` fails with ``KeyError: 'architectures'``; under 5.x its ``InternLM2ForCausalLM``
has no ``generate`` and its key/value cache code breaks). :func:`check_requirements` refuses such a checkpoint
before any work, naming what is missing and the install line that fixes it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from evalkit.errors import ModelSpecError

#: The transformers releases evalkit itself runs on (``pyproject.toml``'s dependency).
SUPPORTED = SpecifierSet(">=4.51.3,<6")
#: From this release ``from_pretrained`` takes ``dtype=``; before it, ``torch_dtype=``.
DTYPE_KEYWORD_SINCE = Version("4.56.0")


@dataclass(frozen=True)
class CodeRequirements:
    """What a checkpoint's own code needs: a transformers range, importable modules, and the extra that has them."""

    what: str
    transformers: SpecifierSet
    modules: tuple[str, ...]
    extra: str

    def install_line(self) -> str:
        return f"pip install \"evalkit[{self.extra}]\" (from a checkout: pip install -e \".[{self.extra}]\")"


@cache
def transformers_version() -> Version:
    """The installed transformers release (its metadata; importing transformers is not needed)."""
    from importlib.metadata import version

    return Version(version("transformers"))


def dtype_keyword(dtype: Any) -> dict[str, Any]:
    """``from_pretrained``'s dtype argument under its name in this release."""
    name = "dtype" if transformers_version() >= DTYPE_KEYWORD_SINCE else "torch_dtype"
    return {name: dtype}


def compat_facts() -> dict[str, str]:
    """The compatibility path taken, for the manifest."""
    version = transformers_version()
    return {
        "transformers": str(version),
        "dtype_keyword": next(iter(dtype_keyword(None))),
        "in_supported_range": "yes" if version in SUPPORTED else f"no ({SUPPORTED})",
    }


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    """The modules of ``modules`` that cannot be imported here (looked up, not imported)."""
    return [module for module in modules if importlib.util.find_spec(module) is None]


def check_requirements(requirements: CodeRequirements, spec: str) -> None:
    """Refuse, with one line naming the problem and the fix, an environment that cannot run the code."""
    problems = []
    version = transformers_version()
    if version not in requirements.transformers:
        problems.append(f"it loads under transformers {requirements.transformers} and this environment has "
                        f"{version}")
    missing = missing_modules(requirements.modules)
    if missing:
        problems.append(f"it needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed")
    if problems:
        raise ModelSpecError(f"model '{spec}': {requirements.what} cannot run here: {'; '.join(problems)}; "
                             f"install with: {requirements.install_line()}")


@contextmanager
def quiet_logging() -> Iterator[None]:
    """Silence transformers' warnings while loading (what was loaded goes to ``describe``): 4.51's note that
    ``use_fast`` is unset, 5.x's that a processor falls back to its PIL backend without torchvision."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
