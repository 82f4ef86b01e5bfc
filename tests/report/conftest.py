"""A real run for the report's tests: the built-in tiny-random model on two suites read from VLMEvalKit TSVs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from evalkit.catalog.cards import load_catalog
from evalkit.config import Environment, ModelConfig, ModelOptions, RunConfig
from evalkit.demo.sets import write_demo_tsv
from evalkit.run.runner import Runner

TINY_SUITES = ("DocVQA_VAL", "MMBench_DEV_EN")
"""Two splits the paper does not report (it reports DocVQA test and MMBench test)."""
TINY_LIMIT = 6


@dataclass(frozen=True)
class TinyRun:
    run_dir: Path
    data_root: Path
    environment: Environment


def write_suite_tsv(name: str, data_root: Path) -> Path:
    """The suite's built-in demo set, written where ``$LMUData`` keeps the suite's TSV."""
    spec = load_catalog().get(name)
    options = {key: value for key, value in spec.demo.items() if key != "family"}
    return write_demo_tsv(spec.demo["family"], data_root / spec.sources["tsv"].filename, language=spec.language,
                          answers_hidden=spec.answers_hidden, **options)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> TinyRun:
    root = tmp_path_factory.mktemp("tiny-run")
    data_root = root / "LMUData"
    for name in TINY_SUITES:
        write_suite_tsv(name, data_root)
    environment = Environment(data_root=data_root, cache_dir=root / "cache", hub_cache_dir=None, offline=True)
    config = RunConfig(model=ModelConfig("tiny-random", ModelOptions(device="cpu", dtype="float32")),
                       benchmarks=TINY_SUITES, output=root / "run", environment=environment, source="tsv",
                       verify_checksums=False, limit=TINY_LIMIT, max_new_tokens=8, batch_size=4, progress=False)
    Runner(config).run()
    return TinyRun(root / "run", data_root, environment)
