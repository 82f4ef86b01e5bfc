"""The run, as a table of contents of named steps.

``run`` plans every benchmark first (cards, data, identity: bad input fails
before any model is loaded), then for each one skips what a previous attempt
finished, runs the rest in batches and appends each batch durably.
"""

from __future__ import annotations

import dataclasses
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.catalog.cards import Catalog, load_catalog
from evalkit.catalog.spec import BenchmarkSpec, ProtocolSpec
from evalkit.config import ModelOptions, RunConfig
from evalkit.data.sample import Sample
from evalkit.data.sources import DataInfo, load_samples
from evalkit.judge.base import Judge
from evalkit.models.base import ModelAdapter, SampleContext
from evalkit.models.registry import Placement, load_model, resolve_placement
from evalkit.prompts.layouts import render_instruction
from evalkit.run.folder import SCORES, index_key
from evalkit.run.inference import PreparedBatch, converse, prepare_batch, start_conversation
from evalkit.run.manifest import Manifest, now
from evalkit.run.prefetch import prefetched
from evalkit.run.preflight import check_data
from evalkit.run.progress import progress_bar
from evalkit.run.store import PredictionStore, scoring_turn
from evalkit.scoring.score import Prediction
from evalkit.scoring.suite import ScoredBenchmark, judge_facts, make_judge, missing_judges, score_benchmark

ModelLoader = Callable[[str, ModelOptions], ModelAdapter]

RESOLVED_FLAGS = {"dtype": "--dtype", "device": "--device"}
"""The identity's resolved fields and the flag that sets each, for the message refusing a resume."""


@dataclass(frozen=True)
class BenchmarkPlan:
    """One benchmark, ready to run: its protocol (seed applied), samples and identity."""

    spec: BenchmarkSpec
    protocol: ProtocolSpec
    samples: list[Sample]
    data: DataInfo
    identity: dict[str, Any]

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class BenchmarkOutcome:
    name: str
    samples: int
    reused: int
    generated: int
    errors: int
    seconds: float
    folder: Path
    scored: ScoredBenchmark | None = None
    #: False for a rank of a torchrun job that left merging or scoring this folder to another rank.
    finished_here: bool = True


def plan_benchmark(spec: BenchmarkSpec, config: RunConfig, placement: Placement | None = None) -> BenchmarkPlan:
    """Resolve the protocol, load the samples (text only; images stay lazy) and the run identity.

    The identity records the dtype and device the model runs with (``placement``, the backend's resolution of
    ``--dtype`` / ``--device``), not the request: ``auto`` is a different precision on a CPU and on a GPU.
    Without a placement (a model loader given by the caller) the request is recorded."""
    options = config.model.options
    placement = placement or Placement(options.dtype, options.device)
    protocol = spec.protocol(config.protocol)
    generation = dataclasses.replace(protocol.generation, seed=config.seed)
    if config.max_new_tokens is not None:
        generation = dataclasses.replace(generation, max_new_tokens=config.max_new_tokens)
    protocol = dataclasses.replace(protocol, generation=generation)
    data_file = config.data_file or config.demo_data.get(spec.name)
    env = config.environment
    loaded = load_samples(spec, source=config.source, data_file=data_file, data_root=env.data_root,
                          hub_cache_dir=env.hub_cache_dir, offline=env.offline,
                          verify_checksum=config.verify_checksums, protocol=config.protocol,
                          progress=config.progress)
    samples = loaded.samples[: config.limit] if config.limit is not None else loaded.samples
    identity = {
        "model": config.model.spec,
        "dtype": placement.dtype,
        "device": placement.device,
        "protocol": config.protocol,
        "prompt_version": spec.prompt_version(config.protocol),
        "generation": protocol.generation.as_dict(),
        "max_tiles": config.max_tiles if config.max_tiles is not None else protocol.max_tiles,
        "image_policy": protocol.image_policy,
        "tile_budget": protocol.tile_budget,
        "data_checksum": loaded.info.checksum,
    }
    return BenchmarkPlan(spec, protocol, samples, loaded.info, identity)


def batched(items: Sequence[Sample], size: int) -> Iterator[Sequence[Sample]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def seed_everything(seed: int) -> None:
    """Seed Python's and torch's generators (sampling decoders, random fallbacks)."""
    random.seed(seed)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    torch.manual_seed(seed)


def batching_order(samples: Sequence[Sample], plan: BenchmarkPlan, config: RunConfig) -> list[Sample]:
    """Longest prompts first (images, then text length), so a batch pads little; stable for equal lengths."""
    if not config.group_by_length or config.batch_size == 1:
        return list(samples)

    def weight(sample: Sample) -> tuple[int, int]:
        instruction = render_instruction(sample, plan.protocol, plan.spec.language, config.max_tiles)
        return len(instruction.images) * instruction.tiles_per_image, sum(len(text) for text in instruction.texts)

    return sorted(samples, key=weight, reverse=True)


def infer_benchmark(plan: BenchmarkPlan, store: PredictionStore, model: ModelAdapter, config: RunConfig,
                    todo: Sequence[Sample], description: str) -> int:
    """Generate for ``todo`` in batches prepared ahead by worker threads, appending each finished batch;
    return the number of errors."""
    errors = 0
    params = plan.protocol.generation
    seed_everything(config.seed)

    def prepare(batch: Sequence[Sample]) -> PreparedBatch:
        conversations = [start_conversation(sample, render_instruction(
            sample, plan.protocol, plan.spec.language, config.max_tiles), SampleContext(sample, plan.name,
                                                                                        config.protocol))
                         for sample in batch]
        return prepare_batch(conversations, model, params)

    batches = list(batched(batching_order(todo, plan, config), config.batch_size))
    workers = config.prefetch_workers
    with progress_bar(total=len(todo), description=description, enabled=config.progress) as bar:
        for prepared in prefetched(batches, prepare, workers=workers, depth=workers + 1):
            converse(prepared, model, params)
            records = [conversation.record() for conversation in prepared.conversations]
            store.append(records)
            errors += sum(record["error"] is not None for record in records)
            bar.update(len(records))
    return errors


def records_of(plan: BenchmarkPlan, store: PredictionStore) -> list[dict[str, Any]]:
    """The stored records of the plan's samples (a smaller --limit leaves earlier extra records out)."""
    keys = (index_key(sample.index) for sample in plan.samples)
    return [store.records[key] for key in keys if key in store.records]


def manifest_entry(plan: BenchmarkPlan, outcome: BenchmarkOutcome, started: str) -> dict[str, Any]:
    return {
        "title": plan.spec.title,
        "card_version": plan.spec.version,
        "protocol_variant": plan.protocol.variant,
        "prompt_layout": plan.protocol.prompt,
        "prompt_options": dict(plan.protocol.prompt_options),
        "data": dataclasses.asdict(plan.data),
        **plan.identity,
        "score": outcome.scored.suite.score if outcome.scored else None,
        "samples": outcome.samples,
        "generated": outcome.generated,
        "reused": outcome.reused,
        "errors": outcome.errors,
        "started": started,
        "finished": now(),
    }


class Runner:
    """Runs a :class:`RunConfig`; the model is loaded once, and only if some benchmark has work left."""

    def __init__(self, config: RunConfig, *, catalog: Catalog | None = None,
                 model_loader: ModelLoader | None = None, score: bool = True) -> None:
        self.config = config
        self.catalog = catalog or load_catalog()
        self.model_loader = model_loader or (lambda spec, options: load_model(spec, options, config.environment))
        self.resolves_placement = model_loader is None
        self.score = score
        self.model: ModelAdapter | None = None
        self.judge: Judge | None = None
        self.manifest: Manifest | None = None

    def run(self) -> list[BenchmarkOutcome]:
        """Check the model spec and every suite's data, then run; nothing is written or downloaded before the
        checks pass (:mod:`evalkit.run.preflight`)."""
        specs = [self.catalog.get(name) for name in self.config.benchmarks]
        placement = self._placement()
        check_data(self.config, self.catalog)
        plans = [plan_benchmark(spec, self.config, placement) for spec in specs]
        stores = [self._open_store(plan) for plan in plans]
        if self.score:
            self.judge = make_judge(self.config.judge, self.config.environment, self.config.judge_base_url,
                                    timeout=self.config.model.options.timeout,
                                    max_retries=self.config.model.options.max_retries)
            for name in missing_judges(specs, self.config.protocol, self.config.judge):
                print(f"evalkit: note: {name} needs a judge to be scored (--judge openai:<model> or hf:<id>); "
                      "its predictions will be made and it will be reported as not scored", file=sys.stderr)
        self.manifest = Manifest.begin(self.config.output, self._settings(), self.config.environment.rank.rank)
        outcomes = [self._run_one(plan, store) for plan, store in zip(plans, stores, strict=True)]
        self.manifest.set("judge", judge_facts(self.config.judge, self.judge))  # final counters
        if self.model is not None:
            self.manifest.set_model(self.model.describe())  # final usage and cost of API models
        self.manifest.finish()
        return outcomes

    def _placement(self) -> Placement | None:
        """The dtype and device the model will run with here (None when the caller gave its own loader)."""
        if not self.resolves_placement:
            return None
        model = self.config.model
        options = dataclasses.replace(model.options, device=self._device())
        return resolve_placement(model.spec, options, self.config.environment)

    def _open_store(self, plan: BenchmarkPlan) -> PredictionStore:
        rank = self.config.environment.rank
        store = PredictionStore.open(self.config.output / plan.name, rank.rank if rank.distributed else None)
        store.claim(plan.identity, flags=RESOLVED_FLAGS)
        return store

    def _my_samples(self, plan: BenchmarkPlan) -> list[Sample]:
        """This rank's fixed share (every world_size-th sample), so ranks never disagree on who does what."""
        rank = self.config.environment.rank
        return plan.samples[rank.rank::rank.world_size]

    def _description(self, plan: BenchmarkPlan) -> str:
        rank = self.config.environment.rank
        return f"{plan.name} [rank {rank.rank}/{rank.world_size}]" if rank.distributed else plan.name

    def _device(self) -> str:
        """Under torchrun, ``auto`` means this rank's GPU (``cuda:LOCAL_RANK``), or the CPU without one."""
        rank, device = self.config.environment.rank, self.config.model.options.device
        if not rank.distributed or device != "auto":
            return device
        import torch

        return f"cuda:{rank.local_rank}" if torch.cuda.is_available() else "cpu"

    def _ensure_model(self) -> ModelAdapter:
        if self.model is None:
            model = self.config.model
            options = dataclasses.replace(model.options, device=self._device(), seed=self.config.seed)
            if options.trust_remote_code:
                print(f"evalkit: note: --trust-remote-code: loading {model.spec} executes the Python code the "
                      "checkpoint ships", file=sys.stderr)
            self._announce(f"loading {model.spec} (device {options.device}, dtype {options.dtype})")
            clock = time.perf_counter()
            self.model = self.model_loader(model.spec, options)
            self._announce(f"{model.spec} loaded in {time.perf_counter() - clock:.1f} s")
            description = self.model.describe()
            code = description.get("remote_code_files")
            for entry in code if isinstance(code, list) else []:
                print(f"evalkit: note: executed {entry['file']} (sha256 {entry['sha256'][:12]}…)", file=sys.stderr)
            assert self.manifest is not None
            self.manifest.set_model(description)
        return self.model

    def _announce(self, text: str) -> None:
        """A long step's start or end on stderr, with the progress bars (``--no-progress`` silences both)."""
        if self.config.progress:
            print(f"evalkit: {text}", file=sys.stderr)

    def _run_one(self, plan: BenchmarkPlan, store: PredictionStore) -> BenchmarkOutcome:
        started, clock = now(), time.perf_counter()
        retry = self.config.retry_errors
        todo = [s for s in self._my_samples(plan) if not store.is_done(s.index, retry_errors=retry)]
        if todo:
            infer_benchmark(plan, store, self._ensure_model(), self.config, todo, self._description(plan))

        def outcome_of(errors: int, scored: ScoredBenchmark | None, finished_here: bool) -> BenchmarkOutcome:
            return BenchmarkOutcome(plan.name, len(plan.samples), len(plan.samples) - len(todo), len(todo), errors,
                                    time.perf_counter() - clock, store.folder, scored, finished_here)

        if not store.merge_if_complete([sample.index for sample in plan.samples]):
            return outcome_of(0, None, finished_here=False)
        errors = sum(1 for record in records_of(plan, store) if record.get("error"))
        with self._scoring_turn(store.folder) as mine:
            scored = self._score(plan, store) if self.score and mine else None
        outcome = outcome_of(errors, scored, finished_here=mine)
        if mine:  # the rank that scores records the suite in the manifest
            assert self.manifest is not None
            self.manifest.record_benchmark(plan.name, manifest_entry(plan, outcome, started))
        return outcome

    def _scoring_turn(self, folder: Path) -> AbstractContextManager[bool]:
        """Alone, always this process's turn; under torchrun, one rank's of those that find the folder merged."""
        if not self.config.environment.rank.distributed:
            return nullcontext(True)
        return scoring_turn(folder, folder / SCORES)

    def _score(self, plan: BenchmarkPlan, store: PredictionStore) -> ScoredBenchmark:
        predictions = [Prediction.from_record(record) for record in records_of(plan, store)]
        return score_benchmark(plan.spec, plan.samples, predictions, store.folder, protocol=self.config.protocol,
                               judge=self.judge, judge_spec=self.config.judge, seed=self.config.seed)

    def _settings(self) -> dict[str, Any]:
        config = self.config
        return {
            "model_spec": config.model.spec,
            "model_options": dataclasses.asdict(config.model),
            "protocol": config.protocol,
            "judge": judge_facts(config.judge, self.judge),
            "seed": config.seed,
            "batch_size": config.batch_size,
            "limit": config.limit,
            "max_tiles_override": config.max_tiles,
        }
