"""What the ``vlmeval:`` backend needs around VLMEvalKit's model classes, without importing ``vlmeval`` here.

* :func:`import_vlmeval`: the one place ``vlmeval`` is imported (about 10 s, many packages). Its ``__init__``
  replaces ``ssl``'s default HTTPS context factory with an unverified one and calls ``logging.basicConfig``;
  :func:`guarded_globals` puts both back after the import and after every call into VLMEvalKit, and sends what
  VLMEvalKit prints to stderr so evalkit's stdout stays its own.
* :func:`vlmeval_line`: a sample as the ``line`` (a pandas Series) VLMEvalKit's ``build_prompt`` methods read:
  ``index``, ``question``, ``hint``, the option letters, ``answer`` and the sample's other columns, a missing
  cell NaN as ``pandas.read_csv`` gives it. Images are not in the line: VLMEvalKit gets them from
  ``dump_image``, which the adapter answers with the files :class:`ImageFolder` wrote.
* :func:`dataset_prompt`: VLMEvalKit's own dataset class's ``build_prompt(line)``, for a model that does not
  build its own prompt for that dataset (``use_custom_prompt`` false), as VLMEvalKit's ``infer_data`` does. The
  class is found as ``build_dataset`` finds it (``supported_datasets()``), and used without loading its TSV.
* :func:`render_message`: the message list a model class receives, as the text recorded in ``prompt``.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import logging
import os
import re
import ssl
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from evalkit.data.sample import Sample
from evalkit.errors import EvalkitError

DISTRIBUTION = "ms-vlmeval"
INSTALL_HINT = "pip install 'evalkit[vlmeval]' (from a checkout: pip install -e \".[vlmeval]\")"
IMAGE_PLACEHOLDER = "<image>"


def vlmeval_installed() -> bool:
    """Whether ``import vlmeval`` would find a package (nothing is imported)."""
    return importlib.util.find_spec("vlmeval") is not None


def vlmeval_version() -> str:
    """The installed ``ms-vlmeval`` release, or ``unknown`` for a source checkout installed otherwise."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@contextlib.contextmanager
def guarded_globals() -> Iterator[None]:
    """Run VLMEvalKit code with its prints on stderr, then restore ``ssl``'s HTTPS context factory and the
    root logger (handlers, level), which its import changes."""
    https_context = ssl._create_default_https_context
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        ssl._create_default_https_context = https_context
        root.handlers[:] = handlers
        root.setLevel(level)


def import_vlmeval() -> Any:
    """``vlmeval.config`` (its ``supported_VLM``), imported once under :func:`guarded_globals`, its log line about
    a missing ``.env`` file (API keys, which local models do not need) silenced."""
    silenced = logging.root.manager.disable
    logging.disable(logging.ERROR)
    try:
        with guarded_globals():
            import vlmeval.config
    except Exception as exc:  # a broken installation (a torchvision that cannot load, say): one line
        raise EvalkitError(f"cannot import VLMEvalKit (ms-vlmeval {vlmeval_version()}): {type(exc).__name__}: "
                           f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc
    finally:
        logging.disable(silenced)

    return vlmeval.config


def supported_models() -> dict[str, Any]:
    """VLMEvalKit's ``supported_VLM``: model name to constructor."""
    return dict(import_vlmeval().supported_VLM)


def _missing() -> float:
    return float("nan")


def vlmeval_line(sample: Sample) -> Any:
    """The sample as VLMEvalKit's ``line``: a Series with the TSV's text columns (images come from
    ``dump_image``); a missing hint, option or metadata cell is NaN, as pandas reads an empty cell."""
    import pandas as pd

    cells: dict[str, Any] = {"index": sample.index, "question": sample.question,
                             "hint": _missing() if sample.hint is None else sample.hint}
    cells.update({letter: text for letter, text in sample.options})
    if sample.answers:
        cells["answer"] = sample.answers[0] if len(sample.answers) == 1 else str(list(sample.answers))
    for name, value in sample.metadata.items():
        cells.setdefault(name, _missing() if value is None else value)
    return pd.Series(cells, dtype=object)


def dataset_class(dataset: str) -> Any:
    """VLMEvalKit's dataset class for ``dataset`` (the first whose ``supported_datasets()`` lists it)."""
    import_vlmeval()
    with guarded_globals():
        from vlmeval.dataset import DATASET_CLASSES

        for candidate in DATASET_CLASSES:
            if dataset in candidate.supported_datasets():
                return candidate
    raise ValueError(f"VLMEvalKit has no dataset named '{dataset}'")


def dataset_prompt(dataset: str, line: Any, image_files: Sequence[Path], image_root: Path) -> list[dict[str, str]]:
    """The dataset class's own ``build_prompt(line)``, its ``dump_image`` answered with ``image_files``.

    The class is not constructed (that would download and md5-check its TSV): an instance is made with the
    attributes ``build_prompt`` reads (``dataset_name``, ``img_root``, ``meta_only``)."""
    cls = dataset_class(dataset)
    instance = cls.__new__(cls)
    instance.dataset_name = dataset
    instance.img_root = str(image_root)
    instance.meta_only = False
    instance.dump_image = lambda _line: [str(path) for path in image_files]
    message = instance.build_prompt(line)
    return [dict(item) for item in message]


def render_message(message: Sequence[dict[str, Any]]) -> str:
    """The message a model class received, as text: each text item as written, each image as ``<image>``,
    one item per line, in the order the model got them."""
    return "\n".join(IMAGE_PLACEHOLDER if item.get("type") == "image" else str(item.get("value", ""))
                     for item in message)


class ImageFolder:
    """Image files for the model class, which reads images from paths: one request's images at a time, written
    as PNG (lossless, so the model decodes the pixels evalkit decoded) and removed before the next request."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="evalkit-vlmeval-")
        self.root = Path(self._folder.name)
        self.files: list[Path] = []

    def write(self, name: object, images: Sequence[Image.Image]) -> list[Path]:
        """Write ``images`` as ``<name>_<k>.png`` (the previous request's files are removed first)."""
        self.clear()
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", str(name))[:80] or "image"
        for position, image in enumerate(images):
            path = self.root / f"{stem}_{position}.png"
            image.convert("RGB").save(path, format="PNG")
            self.files.append(path)
        return list(self.files)

    def clear(self) -> None:
        for path in self.files:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        self.files = []

    def close(self) -> None:
        self.clear()
        self._folder.cleanup()
