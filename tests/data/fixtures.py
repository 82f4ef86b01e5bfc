"""Helpers that write small data files in the real formats (nothing is checked in)."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import os
import random
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from PIL import Image

from evalkit.catalog.spec import BenchmarkSpec, ColumnMap, Source

MCQ_COLUMNS = ColumnMap(
    option_letters="ABCD",
    hint="hint",
    metadata=("category", "l2-category"),
    optional=("split",),
)


def png_bytes(color: tuple[int, int, int], size: tuple[int, int] = (6, 4)) -> bytes:
    """A small solid-colour PNG with one odd pixel (so orientation errors show)."""
    image = Image.new("RGB", size, color)
    image.putpixel((0, 0), (color[2], color[0], color[1]))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def noise_png(seed: int, side: int = 100) -> bytes:
    """A random-noise PNG (incompressible: about 3 bytes per pixel)."""
    raw = random.Random(seed).randbytes(side * side * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), raw).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def pixels(data: bytes) -> tuple[tuple[int, int], bytes]:
    """Size and raw RGB bytes of an encoded image, for pixel-exact comparison."""
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
        return rgb.size, rgb.tobytes()


def image_pixels(image: Image.Image) -> tuple[tuple[int, int], bytes]:
    return image.size, image.convert("RGB").tobytes()


TRICKY_QUESTION = 'What is "this"?\tIt has a tab,\na newline and ""quotes"".'

RED = png_bytes((200, 10, 10))
GREEN = png_bytes((10, 200, 10))
BLUE = png_bytes((10, 10, 200))
YELLOW = png_bytes((220, 220, 0), size=(3, 5))
CORRUPT = b64(b"this is not an image, only some bytes " * 4)


def mcq_rows() -> list[dict[str, Any]]:
    """The rows of a VLMEvalKit-style MCQ TSV, covering every image-cell form."""
    nan = float("nan")
    return [
        {
            "index": 1,
            "image": b64(RED),
            "question": TRICKY_QUESTION,
            "hint": "a hint",
            "A": "cat",
            "B": "dog",
            "C": "bird",
            "D": "fish",
            "answer": "A",
            "category": "animals",
            "l2-category": "pets",
            "split": "dev",
        },
        {
            "index": 2,
            "image": b64(GREEN),
            "question": "Which colour?",
            "hint": nan,
            "A": "red",
            "B": "green",
            "C": "blue",
            "D": nan,
            "answer": "B",
            "category": "colour",
            "l2-category": "basic",
            "split": "test",
        },
        {
            "index": 3,
            "image": "1",
            "question": "Same image as 1?",
            "hint": nan,
            "A": "yes",
            "B": "no",
            "C": nan,
            "D": nan,
            "answer": "A",
            "category": "reuse",
            "l2-category": "ref",
            "split": "dev",
        },
        {
            "index": 4,
            "image": str([b64(BLUE), b64(YELLOW)]),
            "question": "Two images.",
            "hint": nan,
            "A": "1",
            "B": "2",
            "C": "3",
            "D": nan,
            "answer": "B",
            "category": "multi",
            "l2-category": "count",
            "split": "dev",
        },
        {
            "index": 5,
            "image": CORRUPT,
            "question": "Broken image.",
            "hint": nan,
            "A": "x",
            "B": "y",
            "C": nan,
            "D": nan,
            "answer": "A",
            "category": "broken",
            "l2-category": "bad",
            "split": "dev",
        },
        {
            "index": 6,
            "image": "999",
            "question": "Dangling reference.",
            "hint": nan,
            "A": "x",
            "B": "y",
            "C": nan,
            "D": nan,
            "answer": "B",
            "category": "broken",
            "l2-category": "ref",
            "split": "dev",
        },
    ]


def write_tsv(path: Path, rows: list[dict[str, Any]]) -> str:
    """Write rows as VLMEvalKit does (pandas, tab-separated, no index); return the file's md5."""
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_noise_tsv(path: Path, rows: int, side: int = 100, chunk: int = 250, distinct: int = 97) -> None:
    """A large TSV of random-noise images (``distinct`` different ones), written in chunks."""
    images = [b64(noise_png(seed, side)) for seed in range(min(rows, distinct))]
    for start in range(0, rows, chunk):
        frame = pd.DataFrame(
            {
                "index": list(range(start, min(rows, start + chunk))),
                "image": [images[i % len(images)] for i in range(start, min(rows, start + chunk))],
                "question": [f"question {i}" for i in range(start, min(rows, start + chunk))],
                "answer": [str(i % 4) for i in range(start, min(rows, start + chunk))],
            }
        )
        frame.to_csv(path, sep="\t", index=False, mode="w" if start == 0 else "a", header=start == 0)


def make_spec(sources: Mapping[str, Source], default: str = "tsv", name: str = "TestSuite") -> BenchmarkSpec:
    return BenchmarkSpec(
        name=name,
        title="Test suite",
        task="mcq",
        version=1,
        citation="",
        aliases=(),
        language="en",
        demo={},
        answers_hidden=False,
        default_source=default,
        sources=dict(sources),
        protocols={},
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 (a free port) for the block; yield the base URL."""
    handler = partial(_QuietHandler, directory=os.fspath(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


HUB_README = """---
configs:
- config_name: default
  data_files:
  - split: test
    path: data/test-*
  - split: dev
    path: data/dev-*
- config_name: extra
  data_files:
  - split: validation
    path: extra/validation-*
---
# A hub-layout test dataset
"""


def write_hub_folder(root: Path) -> None:
    """A folder laid out like a hub dataset repo: parquet under data/ and extra/, README configs."""
    from datasets import Dataset, Features, List, Value
    from datasets import Image as HubImage

    features = Features(
        {
            "question_id": Value("string"),
            "question": Value("string"),
            "answers": List(Value("string")),
            "options": List(Value("string")),
            "image": HubImage(),
            "data_type": Value("string"),
            "category": Value("string"),
        }
    )
    test: dict[str, list[Any]] = {
        "question_id": ["101", "q-102", "103"],
        "question": ["Colour?", "Video only", "Pick one"],
        "answers": [["red", "crimson"], ["none"], ["B"]],
        "options": [["red", "green"], [], ["x", "y", "z"]],
        "image": [
            {"bytes": RED, "path": None},
            {"bytes": GREEN, "path": None},
            {"bytes": BLUE, "path": None},
        ],
        "data_type": ["image", "video", "image"],
        "category": ["colour", "motion", "choice"],
    }
    (root / "data").mkdir(parents=True)
    (root / "extra").mkdir()
    Dataset.from_dict(test, features=features).to_parquet(str(root / "data" / "test-00000-of-00001.parquet"))
    dev = {key: values[:1] for key, values in test.items()}
    Dataset.from_dict(dev, features=features).to_parquet(str(root / "data" / "dev-00000-of-00001.parquet"))
    multi = Features({"id": Value("int64"), "question": Value("string"), "images": List(HubImage())})
    extra = {
        "id": [7],
        "question": ["Two pictures"],
        "images": [[{"bytes": BLUE, "path": None}, {"bytes": YELLOW, "path": None}]],
    }
    Dataset.from_dict(extra, features=multi).to_parquet(
        str(root / "extra" / "validation-00000-of-00001.parquet")
    )
    (root / "README.md").write_text(HUB_README, encoding="utf-8")
