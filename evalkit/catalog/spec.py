"""Typed records for a benchmark card: the data the engine composes.

A card (``evalkit/benchmarks/*.toml``) is parsed and validated by
:mod:`evalkit.catalog.cards` into a :class:`BenchmarkSpec`. Everything that differs
between suites lives here as data: sources, column mapping, prompt layout,
tiles, decoding, extractor and metric, per protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

PROTOCOLS = ("paper", "vlmevalkit")
Protocol = Literal["paper", "vlmevalkit"]
AnswerFormat = Literal["text", "list"]
ImagePolicy = Literal["all", "first"]
#: How a protocol's reference reads the cells of a data file (:mod:`evalkit.data.cells`).
CellRule = Literal["pandas", "literal"]
CELL_RULES: tuple[CellRule, ...] = ("pandas", "literal")


@dataclass(frozen=True)
class ColumnMap:
    """How a source's columns become a :class:`~evalkit.data.sample.Sample`.

    ``images`` are columns holding encoded images (base64 text in a TSV, where a
    cell of 64 characters or fewer is the index of another row whose image is
    reused, and a cell starting with ``[`` is a list of images; image bytes or
    ``{"bytes", "path"}`` in a hub dataset). ``image_paths`` are columns holding
    file paths, relative to the data file's folder. Options come either from one
    column per letter (``option_letters``, a blank cell meaning no such option)
    or from one list-valued column (``options_list``). ``answer_format`` "list"
    means the cell is a Python/JSON list literal or a real list.

    ``metadata`` columns are carried when present; a source may lack one unless
    it is in ``needed``, the columns a metric of the card cannot be computed
    without, each with the reason an error message gives
    (``("l2-category", "metric 'hallusion' groups fAcc and qAcc by it")``).
    """

    index: str = "index"
    question: str = "question"
    answer: str | None = "answer"
    answer_format: AnswerFormat = "text"
    images: tuple[str, ...] = ("image",)
    image_paths: tuple[str, ...] = ()
    option_letters: str = ""
    options_list: str | None = None
    hint: str | None = None
    turns: tuple[str, ...] = ()
    metadata: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    needed: tuple[tuple[str, str], ...] = ()

    def needed_by(self, name: str) -> str | None:
        """Why a metric needs column ``name``, or None if no metric does."""
        return next((why for column, why in self.needed if column == name), None)

    def required_columns(self) -> tuple[str, ...]:
        """Columns a source must have: index, question (or turns), answer, images, an options list and the
        metadata a metric needs; option letters, other metadata and ``optional`` columns may be absent."""
        names = [self.index]
        if not self.turns:
            names.append(self.question)
        names.extend(self.turns)
        if self.answer is not None:
            names.append(self.answer)
        names.extend(self.images)
        names.extend(self.image_paths)
        if self.options_list is not None:
            names.append(self.options_list)
        names = [name for name in names if name not in self.optional]
        names.extend(column for column, _ in self.needed)
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class TsvSource:
    """A VLMEvalKit TSV: downloaded into ``$LMUData`` and md5-checked.

    ``older_md5`` lists earlier published versions of the file (e.g. the one
    VLMEvalKit served in 2024-04); they are recorded, not accepted silently.
    """

    url: str
    md5: str | None
    filename: str
    columns: ColumnMap
    older_md5: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowFilter:
    """Keep only rows whose ``column`` equals ``equals`` (e.g. SEED's ``data_type == "image"``)."""

    column: str
    equals: str


@dataclass(frozen=True)
class HubSource:
    """A Hugging Face hub dataset (or a local folder laid out like the hub repo).

    ``rename`` maps hub column names onto the names the column map uses
    (e.g. ChartQA's ``type`` → ``split``) before rows become samples.
    """

    repo: str
    split: str
    columns: ColumnMap
    config: str | None = None
    revision: str = "main"
    fallback_repos: tuple[str, ...] = ()
    filter: RowFilter | None = None
    rename: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FileSource:
    """A file the user supplies (``--data-file``), or a URL with no pinned checksum (ConvBench)."""

    columns: ColumnMap
    url: str | None = None
    note: str = ""


Source = TsvSource | HubSource | FileSource


@dataclass(frozen=True)
class GenerationParams:
    """Decoding settings handed to a model adapter."""

    max_new_tokens: int
    min_new_tokens: int = 0
    do_sample: bool = False
    num_beams: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "max_new_tokens": self.max_new_tokens,
            "min_new_tokens": self.min_new_tokens,
            "do_sample": self.do_sample,
            "num_beams": self.num_beams,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class ProtocolSpec:
    """What one protocol fixes for one suite: prompt, tiles, decoding, scoring names, and how its
    reference reads a data file's cells (``cells``: ``pandas`` or ``literal``)."""

    prompt: str
    prompt_options: Mapping[str, Any]
    max_tiles: int
    image_policy: ImagePolicy
    tile_budget: int
    generation: GenerationParams
    extractor: str
    metric: str
    variant: str
    scoring_options: Mapping[str, Any] = field(default_factory=dict)
    cells: CellRule = "literal"

    def tiles_for(self, n_images: int) -> int:
        """Max tiles per image with ``n_images`` images.

        With a ``tile_budget`` (VLMEvalKit HEAD: 64) each image gets
        ``max(1, min(max_tiles, budget // n_images))``; otherwise every image
        gets ``max_tiles``.
        """
        if self.tile_budget and n_images > 0:
            return max(1, min(self.max_tiles, self.tile_budget // n_images))
        return self.max_tiles


#: How a key of an ``[lmms_eval]`` rule compares a logged value with a data row (``evalkit import lmms-eval``):
#: ``equal`` (same text, whitespace and case aside), ``answers`` (the same answers, a list literal read as its
#: items), ``data_in_log`` (the row's text appears in the logged text), ``log_in_data`` (the logged text appears in
#: the row's), ``box`` (the logged box, as fractions of the image, is the row's box within one pixel).
MATCH_KINDS = ("equal", "answers", "data_in_log", "log_in_data", "box")
#: Row fields a key may name besides the card's metadata columns (``split``: the grounding split label).
ROW_FIELDS = ("index", "question", "answers", "hint", "box", "split")


@dataclass(frozen=True)
class MatchKey:
    """One check tying a logged lmms-eval sample to a data row: the first of the ``log`` paths that the log line
    holds (``input``, ``target``, ``doc.<field>``, ``<metric>.<field>``), compared with the row's ``data`` field
    by ``match`` (one of :data:`MATCH_KINDS`)."""

    log: tuple[str, ...]
    data: str
    match: str


@dataclass(frozen=True)
class LmmsEvalRule:
    """How lmms-eval's ``--log_samples`` lines of a suite find their rows (a card's ``[lmms_eval]`` table).

    ``keys``: a line is matched when exactly one row passes every key whose log field the line holds, never
    guessed. ``tasks``: lmms-eval task names beyond the card's aliases, each with the row fields its samples
    must have (RefCOCO's ``refcoco+_bbox_rec_testA`` → ``{split = "RefCOCO+_testA"}``). ``prefer``: when a log
    holds several of the suite's tasks that ask the same rows (MathVista's prompt styles), the first present
    is imported and the others are listed as skipped; without it the tasks' samples are combined.
    """

    keys: tuple[MatchKey, ...]
    tasks: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    prefer: tuple[str, ...] = ()


#: How ``score --cross-check`` reads VLMEvalKit's per-row results: ``yes_no`` (the ``_auxmatch`` file's ``score``),
#: ``choice`` (the ``_exact_matching_result`` file's ``hit``, one row per CircularEval group), ``vqa`` (the
#: ``_results`` file's ``eval_match``, through VLMEvalKit's ``hit_calculate``).
CROSS_CHECK_ROWS = ("yes_no", "choice", "vqa")


@dataclass(frozen=True)
class CrossCheckRule:
    """What VLMEvalKit's own exact-matching evaluation of a suite gives (a card's ``[cross_check]`` table):
    ``rows`` (one of :data:`CROSS_CHECK_ROWS`), the columns of its result summed into the headline, that sum
    times ``scale`` on evalkit's scale, and ``headline_row`` (column = value) picking the row of the result."""

    rows: str
    headline: tuple[str, ...]
    scale: float = 1.0
    headline_row: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BenchmarkSpec:
    """One suite of the catalog, as its card declares it."""

    name: str
    title: str
    task: str
    version: int
    citation: str
    aliases: tuple[str, ...]
    language: str
    demo: Mapping[str, Any]
    answers_hidden: bool
    default_source: str
    sources: Mapping[str, Source]
    protocols: Mapping[str, ProtocolSpec]
    notes: str = ""
    submission: str | None = None
    report: Mapping[str, Any] = field(default_factory=dict)
    lmms_eval: LmmsEvalRule | None = None
    cross_check: CrossCheckRule | None = None
    card_path: str = field(default="", compare=False)
    #: The full set's size as published (BENCHMARKS.md, "Overview"), for ``list benchmarks``; None if unknown.
    samples: int | None = None

    def protocol(self, name: str) -> ProtocolSpec:
        return self.protocols[name]

    def prompt_version(self, protocol: str) -> str:
        """The identity of the prompt: card version, protocol and layout."""
        spec = self.protocols[protocol]
        return f"{self.name}/v{self.version}/{protocol}/{spec.prompt}"
