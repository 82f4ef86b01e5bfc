"""The sample browser's rows: every scored sample of each run, joined with its instruction and, where the run's
data can be read on this machine (:mod:`evalkit.report.local_data`), a thumbnail of its first image.

Thumbnails are JPEGs at most :data:`~evalkit.report.images.THUMBNAIL_PX` pixels a side. All of a page's
thumbnails together stay under :data:`IMAGE_BUDGET` characters of data URL: they are made round-robin across the
(run, suite) groups in dataset order, so every suite gets the images of its first samples, until the budget is
spent. A suite left without some of its images says so in a note the page shows, as does a suite whose data is
not here. Two runs on the same data share one thumbnail per sample (and the page stores it once).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from evalkit.config import Environment
from evalkit.data.sample import Sample
from evalkit.report.images import thumbnail
from evalkit.report.leaderboard import Report
from evalkit.report.local_data import LocalData, local_data_key, read_local_data
from evalkit.run.folder import RunFolder, index_key, lenient_json_lines

IMAGE_BUDGET = 4_000_000
"""Characters of image data URLs one page may hold (about 4 MB of the file)."""
BATCH = 64
"""Thumbnails made at once by the worker threads (at most this many are made beyond the budget and dropped)."""

Groups = dict[tuple[str, str], list[dict[str, Any]]]


def samples_from_run(run: RunFolder, label: str) -> Groups:
    """The sample browser's rows for one run (no images): per suite, every ``details.jsonl`` row joined by
    ``index`` with ``predictions.jsonl`` (for the instruction). ``label`` is the run's label in the report."""
    result: Groups = {}
    for name, suite in run.suites.items():
        prompts = {index_key(row.get("index")): row for row in lenient_json_lines(suite.predictions_path)}
        rows = []
        for detail in lenient_json_lines(suite.details_path):
            prediction = prompts.get(index_key(detail.get("index")), {})
            rows.append({**detail, "instruction": prediction.get("instruction", prediction.get("prompt")),
                         "prediction": detail.get("prediction", prediction.get("prediction"))})
        result[(label, name)] = rows
    return result


@dataclass
class _Group:
    rows: list[dict[str, Any]]
    data: LocalData
    left_out: int = 0
    shown: int = 0


@dataclass(frozen=True)
class _Candidate:
    """A sample that has an image, in the order thumbnails are given out."""

    group: _Group
    row: dict[str, Any]
    key: tuple[str, str]
    sample: Sample


@dataclass
class _Budget:
    """Thumbnails given out so far (by data and index), the characters they take, and whether the budget is spent."""

    limit: int
    used: int = 0
    spent: bool = False
    made: dict[tuple[str, str], str | None] = field(default_factory=dict)

    def admit(self, key: tuple[str, str], url: str | None) -> str | None:
        """``url`` if the budget allows it; one given out earlier for the same data and index costs nothing."""
        if key in self.made:
            return self.made[key]
        if self.spent:
            return None
        if url is not None and self.used + len(url) > self.limit:
            self.spent = True
            return None
        self.used += len(url or "")
        self.made[key] = url
        return url


def _round_robin(groups: list[_Group]) -> Iterator[_Candidate]:
    """The samples with an image: the first of every group, then the second of every group, …"""
    for position in range(max((len(group.rows) for group in groups), default=0)):
        for group in groups:
            if position >= len(group.rows):
                continue
            row = group.rows[position]
            key = index_key(row.get("index"))
            sample = group.data.samples.get(key)
            if sample is not None and sample.images:
                yield _Candidate(group, row, (group.data.identity, key), sample)


def _attach_images(groups: list[_Group], budget: _Budget, workers: int) -> None:
    """Thumbnails for the candidates in order until the budget is spent, made ``BATCH`` at a time in threads
    (decoding and resizing release the GIL); the rest are counted as left out."""
    candidates = _round_robin(groups)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while not budget.spent and (batch := list(itertools.islice(candidates, BATCH))):
            wanted = {c.key: c.sample for c in batch if c.key not in budget.made}  # two runs' shared samples once
            urls = dict(zip(wanted, pool.map(thumbnail, wanted.values()), strict=True))
            for candidate in batch:
                _give(candidate, budget.admit(candidate.key, urls.get(candidate.key)), budget)
    for candidate in candidates:  # the budget is spent: only thumbnails already made for the same data
        _give(candidate, budget.admit(candidate.key, None), budget)


def _give(candidate: _Candidate, url: str | None, budget: _Budget) -> None:
    if url is not None:
        candidate.row["image_png_base64"] = url
        candidate.group.shown += 1
    elif budget.spent:
        candidate.group.left_out += 1


def size_text(characters: int) -> str:
    """``4.0 MB``, ``120 kB``: a size in bytes for a note."""
    return f"{characters / 1e6:.1f} MB" if characters >= 100_000 else f"{characters / 1e3:.0f} kB"


def _note(group: _Group, budget: _Budget) -> str | None:
    if group.data.note is not None:
        return group.data.note
    if group.left_out:
        return (f"Images of {group.left_out} of these {len(group.rows)} samples were left out to keep this page's "
                f"images under {size_text(budget.limit)}; the first {group.shown} in dataset order have theirs.")
    return None


@dataclass(frozen=True)
class CollectedSamples:
    """``rows``: (run label, suite) → every sample, shaped like :class:`~evalkit.report.html.SampleView`;
    ``notes``: (run label, suite) → why images are missing, where they are."""

    rows: Groups
    notes: dict[tuple[str, str], str]


def collect_samples(report: Report, runs: list[RunFolder], environment: Environment,
                    image_budget: int = IMAGE_BUDGET, workers: int | None = None) -> CollectedSamples:
    """Every scored sample of every run, with thumbnails where the run's data is readable here (within budget),
    made by ``workers`` threads (default: one per CPU, at most 8)."""
    groups: dict[tuple[str, str], _Group] = {}
    read: dict[tuple[object, ...], LocalData] = {}  # runs on the same data read it once
    for info, run in zip(report.runs, runs, strict=True):
        for (label, benchmark), rows in samples_from_run(run, info.label).items():
            key = local_data_key(run, benchmark)
            if key not in read:
                read[key] = read_local_data(run, benchmark, environment)
            groups[(label, benchmark)] = _Group(rows, read[key])
    budget = _Budget(image_budget)
    _attach_images(list(groups.values()), budget, workers or min(8, os.cpu_count() or 1))
    notes = {key: note for key, group in groups.items() if (note := _note(group, budget)) is not None}
    return CollectedSamples({key: group.rows for key, group in groups.items()}, notes)
