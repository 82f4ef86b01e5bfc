"""Let a CUDA build of torchvision import next to the CPU build of torch (test machines only).

On the CPU machines this project is tested on, PyPI offers only CUDA builds of torchvision. Next to the CPU
torch their compiled ops cannot load, and ``import torchvision`` fails in ``torchvision/_meta_registrations.py``
("operator torchvision::nms does not exist"). Declaring the two operator schemas it registers fake kernels for
(``torchvision::nms`` and ``torchvision::qnms``) before the import lets its pure-Python parts import, which is
all that ``timm`` (imported by InternVL-Chat-V1.5's remote code) and transformers' processors need.

This is a workaround for the test environment and stays out of evalkit: ``tests/conftest.py`` installs it in
the test process, and ``tests/support/site/sitecustomize.py`` in every Python process the tests start. It acts
only when torchvision is first imported, and only when torch is a CPU build and torchvision a CUDA one.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

SCHEMA = "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"


def torchvision_cuda_build() -> bool:
    """Whether the installed torchvision was built for CUDA, read from its ``version.py`` without importing it."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        return False
    version_file = Path(spec.origin).with_name("version.py")
    if not version_file.is_file():
        return False
    match = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)", version_file.read_text(encoding="utf-8"), re.MULTILINE)
    return match is not None and "+cu" in match.group(1)


def declare_operators() -> None:
    """Declare ``torchvision::nms`` and ``torchvision::qnms`` when torch is a CPU build and they are missing."""
    import torch

    if torch.version.cuda is not None or not torchvision_cuda_build():
        return
    for name in ("nms", "qnms"):
        with contextlib.suppress(RuntimeError):  # declared already (a torchvision that loaded its ops)
            torch.library.define(f"torchvision::{name}", SCHEMA)


class _DeclareBeforeImport(importlib.abc.MetaPathFinder):
    """Runs :func:`declare_operators` once, just before the first ``import torchvision``."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname == "torchvision":
            sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _DeclareBeforeImport)]
            declare_operators()
        return None


def install() -> None:
    """Arm the workaround for this process (idempotent; a no-op once torchvision is imported)."""
    if "torchvision" in sys.modules:
        return
    if not any(isinstance(finder, _DeclareBeforeImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _DeclareBeforeImport())
