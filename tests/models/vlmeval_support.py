"""What the ``vlmeval:`` tests share: the skip when VLMEvalKit is absent, the pinned commit's file hashes, and the
two CPU shims the InternVL-Chat-V1.5 fixture needs under VLMEvalKit's class.

The shims (test machines only, as :mod:`tests.models.internvl_reference` does for its reference run):

* without CUDA, ``torch.Tensor.cuda`` is a no-op: the checkpoint's ``chat()`` moves its inputs with ``.cuda()``.
* the checkpoint's ``chat()`` accepts and ignores ``verbose``: VLMEvalKit's ``generate_v1_5`` (the same at the
  pinned commit e8e78f05 and in the package) calls ``chat(..., verbose=True)``, a keyword that the hub
  checkpoint's current code takes but the paper-era code of the fixture (InternVL 83c72bc) does not. With
  ``verbose`` the current code prints the prompt and reply; nothing it returns changes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.models.internvl_reference import FIXTURE

needs_vlmeval = pytest.mark.skipif(
    importlib.util.find_spec("vlmeval") is None,
    reason="VLMEvalKit (ms-vlmeval) is not installed here; .ci/run installs it with the vlmeval extra in its "
           "second environment")

#: The VLMEvalKit commit the vlmevalkit protocol pins (docs/protocols.md).
PINNED_COMMIT = "e8e78f05"
#: sha256 at e8e78f05 of the files whose code the vlmeval: backend runs for InternVL-Chat-V1-5.
PINNED_MODEL_FILES = {
    "vlm/internvl/internvl_chat.py": "7ed448a1c32b73358e7f7aafd53308c514527ddabc32211a773eb8670b404eee",
    "vlm/internvl/utils.py": "095e017343427c79c86e35c208632df788de8ddee4fafa4889aec3093c5b577b",
    "vlm/base.py": "6937767f07ae577a3b9a9f1a305dcdbec807cbfec60ca724456c5095577dfb95",
}


def vlmeval_root() -> Path:
    spec = importlib.util.find_spec("vlmeval")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent


def first_difference(pinned: dict[str, str]) -> str | None:
    """The first file (in ``pinned``'s order) whose installed copy differs from the pinned commit's, or None."""
    root = vlmeval_root()
    for name, digest in pinned.items():
        path = root / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            return name
    return None


def pin_message(name: str, follows_pin: str) -> str:
    from evalkit.models.vlmeval_support import vlmeval_version

    return (f"the installed VLMEvalKit (ms-vlmeval {vlmeval_version()}) differs from {PINNED_COMMIT} first in "
            f"vlmeval/{name}; {follows_pin} follows the pin")


def _checkpoint_class() -> Any:
    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    return get_class_from_dynamic_module("modeling_internvl_chat.InternVLChatModel", str(FIXTURE))


@pytest.fixture(scope="module")
def fixture_on_cpu() -> Iterator[None]:
    """The two shims above, for the module's tests."""
    import torch

    cls = _checkpoint_class()
    chat = cls.chat
    assert "verbose" not in inspect.signature(chat).parameters  # the paper-era code, as the shim assumes

    def chat_ignoring_verbose(self: Any, *args: Any, verbose: bool = False, **kwargs: Any) -> Any:
        return chat(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        if not torch.cuda.is_available():
            patch.setattr(torch.Tensor, "cuda", lambda self, *args, **kwargs: self)
        patch.setattr(cls, "chat", chat_ignoring_verbose)
        yield
