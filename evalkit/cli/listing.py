"""``evalkit list benchmarks``: every suite with its size, whether its data is here, and its settings."""

from __future__ import annotations

from evalkit.catalog.cards import load_catalog
from evalkit.catalog.spec import BenchmarkSpec
from evalkit.cli.table import format_table
from evalkit.config import Environment
from evalkit.data.availability import Location, locate

HEADERS = ("benchmark", "task", "samples", "data", "size", "metric (paper)", "tiles p/v", "tokens p/v", "sources",
           "aliases")

#: ``list --help``: what each column of ``list benchmarks`` means.
COLUMNS_HELP = (
    "benchmarks columns: samples = the full set's size as published (rows of the data file); "
    "data = here (the default source's file is in $LMUData), missing (it is downloaded on the first run), "
    "user file (pass --data-file), hub (a Hugging Face dataset, in the datasets cache); "
    "size = the file's size on disk when here (the cards pin no download size); "
    "metric (paper) = the paper protocol's headline metric; tiles p/v and tokens p/v = max tiles and max new tokens "
    "under the paper / vlmevalkit protocols; sources = where the card can read the data from (--source); "
    "aliases = other names accepted for --benchmarks (lmms-eval's task names)."
)


def data_state(location: Location) -> tuple[str, str]:
    """(data, size) cells: whether the default source's data is here, and its size on disk."""
    if location.source == "hub":
        return "hub", ""
    if location.url is None and not location.present:
        return "user file", ""
    if location.path is None or not location.present:
        return "missing", ""
    return "here", f"{location.path.stat().st_size / 1e6:.1f} MB"


def benchmark_row(spec: BenchmarkSpec, environment: Environment) -> tuple[object, ...]:
    paper, vlmevalkit = spec.protocol("paper"), spec.protocol("vlmevalkit")
    state, size = data_state(locate(spec, source=None, data_file=None, data_root=environment.data_root))
    return (spec.name, spec.task, spec.samples if spec.samples is not None else "", state, size, paper.metric,
            f"{paper.max_tiles}/{vlmevalkit.max_tiles}",
            f"{paper.generation.max_new_tokens}/{vlmevalkit.generation.max_new_tokens}",
            ",".join(spec.sources), ", ".join(spec.aliases))


def benchmarks_table(environment: Environment | None = None) -> str:
    environment = environment or Environment.current()
    return format_table(HEADERS, [benchmark_row(spec, environment) for spec in load_catalog()])
