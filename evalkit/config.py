"""Run configuration: frozen records built from flags and the environment.

This is the only module that reads environment variables. Everything below the
CLI receives a :class:`RunConfig` (or a piece of it) and never looks at
``os.environ`` itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.catalog.spec import PROTOCOLS
from evalkit.errors import EvalkitError

TRUTHY = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Rank:
    """This process's place in a torchrun launch (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``); 0 of 1 alone."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Rank:
        try:
            rank, world, local = (int(env.get(name, default)) for name, default in
                                  (("RANK", "0"), ("WORLD_SIZE", "1"), ("LOCAL_RANK", "0")))
        except ValueError as exc:
            raise EvalkitError(f"RANK, WORLD_SIZE and LOCAL_RANK must be whole numbers: {exc}") from None
        if not 0 <= rank < world:
            raise EvalkitError(f"RANK {rank} is outside WORLD_SIZE {world}")
        return cls(rank, world, local)


@dataclass(frozen=True)
class Environment:
    """What evalkit takes from the environment."""

    data_root: Path
    cache_dir: Path
    hub_cache_dir: Path | None
    offline: bool
    openai_api_key: str | None = field(default=None, repr=False)
    openai_api_base: str | None = None
    rank: Rank = Rank()

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Environment:
        """``$LMUData`` (VLMEvalKit's data folder, default ``~/LMUData``), ``$EVALKIT_CACHE``
        (default ``~/.cache/evalkit``), ``$HF_DATASETS_CACHE``, and offline mode from
        ``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE``; the judge's ``OPENAI_API_KEY`` (never written
        anywhere) and ``OPENAI_API_BASE``."""
        home = Path(env.get("HOME", str(Path.home())))
        offline = any(env.get(name, "").strip().lower() in TRUTHY for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))
        hub_cache = env.get("HF_DATASETS_CACHE")
        return cls(
            data_root=Path(env.get("LMUData", str(home / "LMUData"))).expanduser(),
            cache_dir=Path(env.get("EVALKIT_CACHE", str(home / ".cache" / "evalkit"))).expanduser(),
            hub_cache_dir=Path(hub_cache).expanduser() if hub_cache else None,
            offline=offline,
            openai_api_key=env.get("OPENAI_API_KEY") or None,
            openai_api_base=env.get("OPENAI_API_BASE") or None,
            rank=Rank.from_mapping(env),
        )

    @classmethod
    def current(cls) -> Environment:
        return cls.from_mapping(os.environ)


@dataclass(frozen=True)
class ModelOptions:
    """How to load and run a model, whatever its backend.

    ``device``: ``auto`` (cuda if available, else cpu), ``auto-map`` (shard with ``device_map="auto"``), or a
    torch device such as ``cpu`` or ``cuda:1``. ``dtype``: ``auto`` (bfloat16 on cuda, float32 on cpu),
    ``float32``, ``float16`` or ``bfloat16``. ``args``: the backend's own options (``--model-args``), checked
    against that backend's options dataclass. ``seed`` seeds sampling engines and API requests; ``timeout``
    (seconds) and ``max_retries`` bound each API request.
    """

    device: str = "auto"
    dtype: str = "auto"
    trust_remote_code: bool = False
    args: Mapping[str, str] = field(default_factory=dict)
    seed: int = 0
    timeout: float | None = None
    max_retries: int | None = None


@dataclass(frozen=True)
class ModelConfig:
    """The model a run evaluates: its spec and how to load it."""

    spec: str
    options: ModelOptions = ModelOptions()


@dataclass(frozen=True)
class RunConfig:
    """Everything one ``run`` needs. ``max_tiles``, ``data_file`` and ``source`` override the cards."""

    model: ModelConfig
    benchmarks: tuple[str, ...]
    output: Path
    environment: Environment
    protocol: str = "paper"
    limit: int | None = None
    batch_size: int = 1
    seed: int = 0
    max_tiles: int | None = None
    max_new_tokens: int | None = None
    data_file: Path | None = None
    source: str | None = None
    judge: str = "exact_matching"
    judge_base_url: str | None = None
    verify_checksums: bool = True
    retry_errors: bool = False
    progress: bool = True
    prefetch_workers: int = 2
    group_by_length: bool = True
    demo_data: Mapping[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {self.protocol!r}")
