"""Hugging Face hub datasets (or local folders laid out like a hub repo) as Samples.

Loaded with ``datasets`` exactly as ``load_dataset(repo, config, split=…,
revision=…, cache_dir=…)`` does (through its builder, whose ``hash`` is the
resolved commit sha for a hub repo). A local folder works the same when it has
the hub layout: parquet files under ``data/`` or ``<config>/`` and a README.md
whose YAML ``configs:`` block maps configs and splits to files.

Image columns are cast to ``datasets.Image(decode=False)`` so nothing is decoded
up front; each image is a :class:`HubImage` that fetches its row's bytes (or
path) from the memory-mapped arrow table only when loaded. ``datasets`` is
imported inside functions so importing this module stays cheap.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from evalkit.catalog.spec import ColumnMap, HubSource
from evalkit.data.row_mapping import (
    build_sample,
    cell_text,
    check_columns,
    image_items,
    item_ref,
    path_ref,
    text_columns,
)
from evalkit.data.sample import ImageRef, Sample
from evalkit.errors import DataError, SampleError

_SHA_RE = re.compile(r"[0-9a-f]{40}")
_BATCH = 256
_IMAGE_BATCH = 16


@dataclass(frozen=True)
class HubData:
    """Samples of one split, where they came from, and the revision that was read."""

    samples: list[Sample]
    location: str
    revision: str | None


class _ImageTable:
    """The dataset restricted to its image columns (arrow-backed, memory-mapped)."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        self.lock = threading.Lock()

    def value(self, row: int, column: str) -> Any:
        with self.lock:
            return self.dataset[row][column]


@dataclass(frozen=True)
class HubImage:
    """Item ``item`` of the image cell at (``row``, ``column``), read on :meth:`load`."""

    table: _ImageTable = field(repr=False, compare=False)
    row: int
    column: str
    item: int
    origin: str

    @property
    def description(self) -> str:
        return self.origin

    def load(self) -> Image.Image:
        try:
            value = self.table.value(self.row, self.column)
        except (IndexError, KeyError, OSError, ValueError) as exc:
            raise SampleError(f"cannot read image ({self.origin}): {exc}") from exc
        items = image_items(value)
        if self.item >= len(items):
            raise SampleError(f"image {self.item} is missing ({self.origin})")
        return item_ref(items[self.item], self.origin, None).load()


ROW_NUMBER = "@row"
"""A card's ``index = "@row"``: the split has no id column, so the row number (before filtering) is the index."""


def location_of(repo: str, config: str | None, split: str) -> str:
    """``repo[:config]/split``, as recorded in a run's data info."""
    return f"{repo}:{config}/{split}" if config else f"{repo}/{split}"


@contextmanager
def _offline(offline: bool) -> Iterator[None]:
    """Make ``datasets`` use only its cache (as ``HF_HUB_OFFLINE=1`` would) while loading."""
    import datasets.config

    saved = datasets.config.HF_HUB_OFFLINE
    datasets.config.HF_HUB_OFFLINE = saved or offline
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE = saved


def _builder(repo: str, source: HubSource, cache_dir: Path | None, offline: bool) -> Any:
    import datasets

    builder = datasets.load_dataset_builder(
        repo,
        source.config,
        revision=source.revision,
        cache_dir=str(cache_dir) if cache_dir is not None else None,
        download_config=datasets.DownloadConfig(local_files_only=offline),
    )
    builder.download_and_prepare()
    return builder


def _open(source: HubSource, cache_dir: Path | None, offline: bool) -> tuple[Any, str, str | None]:
    """Try ``repo`` then each fallback; return (dataset, repo used, resolved revision)."""
    failures: list[str] = []
    for repo in (source.repo, *source.fallback_repos):
        try:
            with _offline(offline):
                builder = _builder(repo, source, cache_dir, offline)
        except Exception as exc:
            failures.append(f"{repo}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            continue
        splits = list(builder.info.splits or {})
        if splits and source.split not in splits:
            where = location_of(repo, source.config, source.split)
            raise DataError(f"{where}: no split '{source.split}' (available: {', '.join(splits)})")
        try:
            dataset = builder.as_dataset(split=source.split)
        except (ValueError, KeyError, OSError) as exc:
            raise DataError(f"{location_of(repo, source.config, source.split)}: {exc}") from exc
        sha = builder.hash if isinstance(builder.hash, str) and _SHA_RE.fullmatch(builder.hash) else None
        return dataset, repo, sha or source.revision
    tried = "; ".join(failures)
    raise DataError(
        f"cannot load hub dataset {location_of(source.repo, source.config, source.split)}: {tried}"
    )


def _undecoded(dataset: Any, columns: ColumnMap) -> Any:
    """Cast image columns (``Image`` or a list of ``Image``) to ``Image(decode=False)``."""
    import datasets

    for name in columns.images:
        feature = dataset.features.get(name)
        if isinstance(feature, datasets.Image):
            dataset = dataset.cast_column(name, datasets.Image(decode=False))
        elif isinstance(feature, (datasets.List, datasets.LargeList)) and isinstance(
            feature.feature, datasets.Image
        ):
            kind = type(feature)
            dataset = dataset.cast_column(name, kind(datasets.Image(decode=False)))
    return dataset


def _renamed(dataset: Any, rename: Mapping[str, str]) -> Any:
    """Apply the card's ``rename`` (hub name → column-map name); it replaces a same-named column."""
    mapping = {old: new for old, new in rename.items() if old in dataset.column_names and old != new}
    clashes = [new for new in mapping.values() if new in dataset.column_names and new not in mapping]
    if clashes:
        dataset = dataset.remove_columns(clashes)
    return dataset.rename_columns(mapping) if mapping else dataset


def _kept_rows(dataset: Any, source: HubSource, where: str) -> list[int] | None:
    """Row numbers matching the source's :class:`RowFilter` (named by hub or renamed column); None: all."""
    rule = source.filter
    if rule is None:
        return None
    column = source.rename.get(rule.column, rule.column)
    if column not in dataset.column_names:
        raise DataError(f"{where}: missing column '{rule.column}' (used by the row filter)")
    keep: list[int] = []
    offset = 0
    for batch in dataset.select_columns([column]).iter(batch_size=_BATCH * 4):
        values = batch[column]
        keep.extend(offset + i for i, value in enumerate(values) if cell_text(value) == rule.equals)
        offset += len(values)
    return keep


def _image_counts(dataset: Any, column: str) -> list[int]:
    """How many images each row's cell holds, for every row of an unfiltered dataset.

    ``Image`` structs and lists of them are counted from arrow validity and list
    offsets, so no image bytes are read; other cells (base64 text) are inspected row by row.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = dataset.data.column(column)
    kind = cells.type
    if pa.types.is_struct(kind) and {"bytes", "path"} <= {kind.field(i).name for i in range(kind.num_fields)}:
        present = pc.or_(
            pc.is_valid(pc.struct_field(cells, "bytes")), pc.is_valid(pc.struct_field(cells, "path"))
        )
        return [int(flag) for flag in pc.and_(pc.is_valid(cells), present).fill_null(False).to_pylist()]
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return [int(n) for n in pc.list_value_length(cells).fill_null(0).to_pylist()]
    return [len(image_items(row[column])) for row in _iter_rows(dataset, [column], _IMAGE_BATCH)]


def _iter_rows(dataset: Any, names: list[str], batch_size: int = _BATCH) -> Iterator[dict[str, Any]]:
    """Rows of ``names`` as dicts, read a batch at a time (image batches are kept small)."""
    if not names:
        yield from ({} for _ in range(len(dataset)))
        return
    for batch in dataset.select_columns(names).iter(batch_size=batch_size):
        for i in range(len(batch[names[0]])):
            yield {name: batch[name][i] for name in names}


def _image_refs(
    table: _ImageTable, row: int, counts: dict[str, int], paths: list[ImageRef], where: str
) -> tuple[ImageRef, ...]:
    refs: list[ImageRef] = []
    for column, count in counts.items():
        origin = f"{where}, column '{column}'"
        refs.extend(
            HubImage(table, row, column, k, f"{origin}, image {k}" if count > 1 else origin)
            for k in range(count)
        )
    return (*refs, *paths)


def _samples(
    dataset: Any,
    columns: ColumnMap,
    counts: dict[str, list[int]],
    rows: list[int],
    where: str,
    base: Path | None,
) -> list[Sample]:
    """Samples of the (filtered) dataset; ``counts`` are per kept row, ``rows`` the original row numbers."""
    table = _ImageTable(dataset.select_columns(list(counts)))
    names = [
        n for n in dict.fromkeys((*text_columns(columns), *columns.image_paths)) if n in dataset.column_names
    ]
    samples: list[Sample] = []
    for position, values in enumerate(_iter_rows(dataset, names)):
        row_where = f"{where} row {rows[position]}"
        paths = [
            path_ref(cell_text(item), base, f"{row_where}, column '{column}'")
            for column in columns.image_paths
            for item in image_items(values.get(column))
        ]
        row_counts = {column: per_row[position] for column, per_row in counts.items()}
        images = _image_refs(table, position, row_counts, paths, row_where)
        samples.append(build_sample(values, columns, images, row_where))
    return samples


def load_hub(
    source: HubSource, *, suite: str, cache_dir: Path | None = None, offline: bool = False
) -> HubData:
    """Load one split of a hub dataset (or hub-layout folder) as Samples with lazy images.

    Columns are renamed per ``source.rename`` first. Raises :class:`DataError`
    when no repo name works (listing every name tried), when the split is
    unknown, or when a required column is missing.
    """
    dataset, repo, revision = _open(source, cache_dir, offline)
    where = location_of(repo, source.config, source.split)
    dataset = _renamed(dataset, source.rename)
    if source.columns.index == ROW_NUMBER and ROW_NUMBER not in dataset.column_names:
        dataset = dataset.add_column(ROW_NUMBER, list(range(len(dataset))))
    check_columns(dataset.column_names, source.columns, location=where, suite=suite)
    dataset = _undecoded(dataset, source.columns)
    image_columns = [name for name in source.columns.images if name in dataset.column_names]
    counts = {column: _image_counts(dataset, column) for column in image_columns}
    rows = _kept_rows(dataset, source, where)
    if rows is None:
        rows = list(range(len(dataset)))
    else:
        dataset = dataset.select(rows)
        counts = {column: [per_row[i] for i in rows] for column, per_row in counts.items()}
    base = Path(repo) if Path(repo).is_dir() else None
    return HubData(_samples(dataset, source.columns, counts, rows, where, base), where, revision)
