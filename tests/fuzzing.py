"""Shared material for the input-fuzzing tests (tests/data/test_fuzz_files.py, tests/data/test_bad_inputs.py,
tests/scoring/extract/test_fuzz_extractors.py).

The promise under test (docs/reliability.md, "Bad input"): whatever a data file
holds, loading it ends in exactly one of two ways:

* a :class:`~evalkit.errors.DataError` whose one-line message names the file
  (and the column or the line when one is at fault), which the CLI prints as
  ``evalkit: error: …`` with exit code 2; or
* Samples, every one of them well typed and writable as UTF-8, whose bad
  images raise :class:`~evalkit.errors.SampleError` when loaded (the runner
  records that as the sample's ``error`` and goes on).

Never another exception type, never a hang (each case runs under an alarm).

Cases run are counted in ``COUNTS`` and printed after each module (set
``EVALKIT_FUZZ_COUNTS=<file>`` to also get them, all modules so far, as JSON).
"""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import json
import os
import signal
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from PIL import Image

from evalkit.catalog.cards import load_catalog
from evalkit.catalog.spec import ColumnMap
from evalkit.data.local_file import read_data_file
from evalkit.data.sample import Sample
from evalkit.data.sources import data_file_columns, load_samples
from evalkit.errors import DataError, SampleError

COUNTS: Counter[str] = Counter()
CATALOG = load_catalog()
#: Suites whose ``--data-file`` columns cover the shapes a loader meets: list answers (DocVQA), letter
#: options with hint and metadata (AI2D), nine letters (MMMU), numeric metadata (RefCOCO), MathVista's
#: metadata, and a multi-turn suite with an index column of its own and image paths (ConvBench).
SUITES = ("DocVQA_VAL", "AI2D_TEST", "MMMU_DEV_VAL", "RefCOCO", "MathVista_MINI", "ConvBench")
#: No card reads a list-valued options column; this map does, with list answers and an image-path column.
LIST_COLUMNS = ColumnMap(answer_format="list", options_list="options", hint="hint", image_paths=("image_path",),
                         metadata=("width",), optional=("hint", "image_path"))
HANG_SECONDS = 20


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so no ``except Exception`` in the code under test can hide it."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    if not hasattr(signal, "SIGALRM"):  # not on Windows: the cases still run, unguarded
        yield
        return

    def fail(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module", autouse=True)
def report_counts(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a module: its outcome counts on one line (mutations left out; the JSON file has everything)."""
    before = Counter(COUNTS)
    yield
    added = COUNTS - before
    summary = ", ".join(f"{key}={value}" for key, value in sorted(added.items()) if "mutation" not in key)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nfuzz counts: {summary}")
    target = os.environ.get("EVALKIT_FUZZ_COUNTS")
    if target:
        Path(target).write_text(json.dumps(dict(sorted(COUNTS.items())), indent=1) + "\n", encoding="utf-8")


def fuzz_settings(examples: int) -> settings:
    """Hypothesis settings: a fixed sequence of cases (the same counts on every machine, no example database)
    unless ``EVALKIT_FUZZ_EXPLORE=1`` asks for fresh ones, with the database that replays a failure.

    No per-example deadline (a timing on a shared machine flakes); :func:`time_limit` catches hangs instead.
    """
    explore = bool(os.environ.get("EVALKIT_FUZZ_EXPLORE"))
    return settings(max_examples=examples, deadline=None, print_blob=True, derandomize=not explore,
                    database=settings.default.database if explore else None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example])



# --------------------------------------------------------------------------- material: images and text


def png(row: int, size: tuple[int, int] = (5, 3)) -> bytes:
    """A small PNG whose colour encodes ``row``, so an image given to the wrong sample shows."""
    buffer = io.BytesIO()
    Image.new("RGB", size, row_colour(row)).save(buffer, format="PNG")
    return buffer.getvalue()


def row_colour(row: int) -> tuple[int, int, int]:
    return (row * 37 % 256, 91, 200 - row % 100)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def broken_chunk_png(row: int) -> bytes:
    """A PNG whose IDAT length is 0: Pillow then raises SyntaxError ("broken PNG file") while decoding."""
    good = png(row)
    at = good.index(b"IDAT") - 1
    return good[:at] + b"\x00" + good[at + 1 :]


ODD_PIECES = (
    "\x00", "\t", "\r\n", "\r", "\n", '"', '""', "'", "\\", ",", ";", "\u200f", "\u200e", "\u202e", "\u2066",
    "\u0301", "\u0308\u0308\u0308", "e\u0301", "\ufeff", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c",
    "\U0001f600", "中文", "ñ", "nan", "NaN", "None", "null", "[", "]", "['a', 'b']", "[1, 2]", "{}", "1e400",
    "-0", "007", "3.0", " ", "A", "B", "(C)", "Yes", "no", "<image>", "=1+1", "[[[[", "]]", "',", "\\x00",
)
odd_text = st.one_of(
    st.text(max_size=24),
    st.lists(st.sampled_from(ODD_PIECES), max_size=8).map("".join),
    st.lists(st.sampled_from(ODD_PIECES), max_size=3).map(lambda parts: " ".join(["word", *parts, "end"])),
)
#: 100 KB cells: a repeated odd piece (tabs, quotes, newlines, combining marks…).
huge_text = st.sampled_from((*ODD_PIECES, "x", 'a\t"b"\n', "é")).map(lambda piece: (piece * 100_000)[:100_000])
text_cell = st.one_of(odd_text, odd_text, odd_text, odd_text, odd_text, odd_text, huge_text)
#: Numbers where text is expected, NaN, None, booleans, lists, objects: what a jsonl or parquet may hold.
any_value = st.one_of(
    text_cell, st.integers(-(10**30), 10**30), st.floats(), st.none(), st.booleans(),
    st.lists(st.one_of(odd_text, st.integers(), st.floats(), st.none()), max_size=4),
    st.dictionaries(st.sampled_from(("a", "bytes", "path")), st.one_of(odd_text, st.integers()), max_size=2),
)

IMAGE_KINDS = ("good", "good", "cut", "random", "bad_base64", "non_ascii", "empty", "reference",
               "unknown_reference", "list", "huge", "text")
JSON_IMAGE_KINDS = (*IMAGE_KINDS, "real_list", "bytes_text", "bytes_number_list", "path_escape", "path_missing",
                    "number", "boolean", "null")


@dataclass(frozen=True)
class ImageCase:
    kind: str
    cut: int
    blob: bytes
    text: str


image_case = st.builds(ImageCase, st.sampled_from(IMAGE_KINDS), st.integers(0, 10**6), st.binary(max_size=200),
                       odd_text)
json_image_case = st.builds(ImageCase, st.sampled_from(JSON_IMAGE_KINDS), st.integers(0, 10**6),
                            st.binary(max_size=200), odd_text)


def image_text(case: ImageCase, row: int) -> str:
    """The image cell as text (a TSV, a string column): base64, broken base64, a reference or a list literal."""
    good = png(row)
    if case.kind == "good":
        return b64(good)
    if case.kind == "cut":
        return b64(good[: case.cut % len(good)])
    if case.kind == "random":
        return b64(case.blob)
    if case.kind == "bad_base64":
        return b64(good).replace("A", "-").replace("=", "")[: len(b64(good)) - 1 - case.cut % 5] + "!*"
    if case.kind == "non_ascii":
        return "é" + b64(good)
    if case.kind == "empty":
        return ""
    if case.kind == "reference":
        return "0"
    if case.kind == "unknown_reference":
        return "999999"
    if case.kind == "list":
        return str([b64(good), b64(case.blob), "not base64 at all", b64(good[: case.cut % len(good)])])
    if case.kind == "huge":
        return "A" * 100_000
    return case.text


def image_json(case: ImageCase, row: int) -> Any:
    """The image cell of a jsonl object: the text forms, or real lists, objects, numbers, paths."""
    good = png(row)
    extra = {
        "real_list": [b64(good), 5, None, b64(case.blob)],
        "bytes_text": {"bytes": case.text or "abc"},
        "bytes_number_list": {"bytes": [1, 2, 300]},
        "path_escape": {"path": "../../outside.png"},
        "path_missing": {"path": "no such image.png"},
        "number": case.cut,
        "boolean": True,
        "null": None,
    }
    return extra[case.kind] if case.kind in extra else image_text(case, row)


# --------------------------------------------------------------------------- loading and the outcome check


Target = str | ColumnMap


def columns_of(target: Target) -> ColumnMap:
    return target if isinstance(target, ColumnMap) else data_file_columns(CATALOG.get(target))


def load(path: Path, target: Target) -> list[Sample]:
    if isinstance(target, ColumnMap):
        return read_data_file(path, target, suite="fuzz").samples
    return load_samples(CATALOG.get(target), data_file=path, data_root=path.parent).samples


def check_outcome(path: Path, target: Target, family: str) -> list[Sample] | str:
    """Load ``path`` and decode every image; return the samples, or the DataError message.

    Fails on any other exception, a multi-line or anonymous DataError, a badly typed sample, text that
    could not be written to a run directory, an image that neither loads as RGB nor raises SampleError,
    or a hang.
    """
    COUNTS[f"{family}:cases"] += 1
    with time_limit(HANG_SECONDS):
        try:
            samples = load(path, target)
        except DataError as exc:
            message = str(exc)
            assert path.name in message, message
            assert "\n" not in message and "\r" not in message, message
            COUNTS[f"{family}:data_error"] += 1
            tally(f"{family}: DataError")
            return message
        COUNTS[f"{family}:loaded"] += 1
        COUNTS[f"{family}:samples"] += len(samples)
        tally(f"{family}: loaded")
        for sample in samples:
            check_sample(sample)
            for image in sample.images:
                try:
                    loaded = image.load()
                except SampleError as exc:
                    assert str(exc)
                    COUNTS[f"{family}:image_sample_error"] += 1
                else:
                    assert isinstance(loaded, Image.Image) and loaded.mode == "RGB"
                    COUNTS[f"{family}:image_ok"] += 1
    return samples


def tally(outcome: str) -> None:
    """A Hypothesis event (``--hypothesis-show-statistics`` reports them) when inside a fuzz test."""
    if currently_in_test_context():
        event(outcome)


def check_sample(sample: Sample) -> None:
    assert isinstance(sample, Sample)
    assert isinstance(sample.index, (int, str)) and not isinstance(sample.index, bool)
    assert isinstance(sample.question, str)
    assert all(isinstance(answer, str) for answer in sample.answers)
    assert all(isinstance(letter, str) and isinstance(text, str) for letter, text in sample.options)
    assert sample.hint is None or isinstance(sample.hint, str)
    assert all(isinstance(turn, str) for turn in sample.turns)
    sample.content_hash()
    record = [sample.index, sample.question, sample.options, sample.answers, sample.hint, sample.turns,
              dict(sample.metadata)]
    json.dumps(record, ensure_ascii=False, default=str).encode("utf-8")  # what a run directory must hold



def tsv_bytes(header: list[str], rows: list[list[str]], delimiter: str) -> bytes:
    """Rows written as pandas ``to_csv(sep=…)`` writes them: minimal quoting, ``""`` for a quote, LF endings."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")



def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()



def tsv_text(rows: list[dict[str, Any]], header: list[str] | None = None) -> bytes:
    header = header or list(rows[0])
    return tsv_bytes(header, [[str(row.get(name, "")) for name in header] for row in rows], "\t")


def docvqa_row(index: int, image: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"index": index, "image": b64(png(index)) if image is None else image, "question": f"q{index}",
            "answer": str([f"a{index}"]), **extra}


def half_workbook() -> bytes:
    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame([docvqa_row(0)]).to_excel(buffer, index=False)
    whole = buffer.getvalue()
    return whole[: len(whole) // 2]

