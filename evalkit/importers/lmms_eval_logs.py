"""Reading lmms-eval's ``--log_samples`` output, in every layout lmms-eval has written.

* v0.2.4 and later (its ``EvaluationTracker``): ``<output>/<model>/<YYYYMMDD_HHMMSS>_results.json`` and one
  ``<YYYYMMDD_HHMMSS>_samples_<task>.jsonl`` per task, a JSON object per line (``<model>`` is the checkpoint
  named in ``--model_args``, ``/`` written ``__``).
* v0.2.0 to v0.2.3: ``<output>/<MMDD_HHMM>_<suffix>_<backend>_model_args_<hash>/results.json`` and one
  ``<task>.json`` per task, whose ``logs`` list holds the lines.

A line always has ``doc_id`` and the model's reply (``resps``, the raw text, dropped after v0.4 when it equals
``filtered_resps``; each wrapped in lists up to v0.6). Up to v0.3 it keeps the dataset row as ``doc`` (image
fields dropped); later only what the task's ``process_results`` returned (``gpt_eval_score``, ``mmmu_acc``, …),
``input`` (the formatted question) and ``target`` remain. The prompt is ``input``, or the first argument of the
request in v0.2 logs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.errors import DataError
from evalkit.importers.records import Skipped, walk_files
from evalkit.run.folder import read_object

TRACKER_SAMPLES = re.compile(r"^(?P<stamp>\d{8}_\d{6})_samples_(?P<task>.+)\.jsonl$")
TRACKER_RESULTS = re.compile(r"^(?P<stamp>\d{8}_\d{6})_results\.json$")
OLD_RESULTS = "results.json"
TRACKER, OLD = "tracker (v0.2.4 and later)", "v0.2.0-v0.2.3"
#: ``--model_args`` keys that name the checkpoint, in the order lmms-eval's tracker looks for them.
MODEL_KEYS = ("peft", "delta", "pretrained", "model", "model_version", "model_name", "model_id", "path", "engine")
MISSING = object()


def first_text(value: Any) -> str | None:
    """The first string in ``value``, looking into lists (lmms-eval wraps replies in one or two lists)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        return first_text(value[0])
    return None


@dataclass(frozen=True)
class LoggedSample:
    """One line of a task's sample log."""

    task: str
    line: Mapping[str, Any]
    where: str

    @property
    def doc_id(self) -> Any:
        return self.line.get("doc_id")

    @property
    def response(self) -> str | None:
        """The raw reply (``resps``), else the filtered one."""
        raw = first_text(self.line.get("resps"))
        return raw if raw is not None else first_text(self.line.get("filtered_resps"))

    @property
    def instruction(self) -> str | None:
        """The formatted question the model got (``input``; the request's first argument in v0.2 logs)."""
        given = self.line.get("input")
        if isinstance(given, str):
            return given
        arguments = self.line.get("arguments")
        return first_text(arguments) if isinstance(arguments, list) else None

    def value(self, path: str) -> Any:
        """``input``, ``target``, or ``<part>.<field>`` (``doc.question``, ``gpt_eval_score.index``); else MISSING."""
        if path == "input":
            instruction = self.instruction
            return MISSING if instruction is None else instruction
        head, _, rest = path.partition(".")
        value = self.line.get(head, MISSING)
        if rest:
            value = value.get(rest, MISSING) if isinstance(value, Mapping) else MISSING
        return MISSING if value is None else value


@dataclass
class TaskLog:
    """One task's sample log and the results file of its run."""

    task: str
    path: Path
    layout: str
    stamp: str
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return model_name(self.results, self.path.parent, self.layout)

    def rank(self) -> tuple[bool, str]:
        """Newer is larger: tracker logs after v0.2 ones, then by time stamp."""
        return self.layout == TRACKER, self.stamp

    def configuration(self) -> dict[str, Any]:
        """What the results file says about the task's run: dataset, split, limit, version."""
        config = self.results.get("config") or self.results.get("model_configs") or {}
        task_config = (self.results.get("configs") or {}).get(self.task) or {}
        facts = {"task": self.task, "file": str(self.path), "layout": self.layout,
                 "dataset": task_config.get("dataset_path"), "dataset_config": task_config.get("dataset_name"),
                 "split": task_config.get("test_split") or task_config.get("validation_split"),
                 "limit": config.get("limit") if isinstance(config, Mapping) else None,
                 "lmms_eval_version": self.results.get("lmms_eval_version"),
                 "git_hash": self.results.get("git_hash")}
        return {key: value for key, value in facts.items() if value is not None}


def model_args_name(model_args: Any) -> str | None:
    """The checkpoint named by ``--model_args`` (``pretrained=lmms-lab/llava…,conv_template=…``)."""
    pairs: Mapping[str, Any]
    if isinstance(model_args, Mapping):
        pairs = model_args
    elif isinstance(model_args, str):
        pairs = dict(part.split("=", 1) for part in model_args.split(",") if "=" in part)
    else:
        return None
    return next((str(pairs[key]).strip() for key in MODEL_KEYS if str(pairs.get(key) or "").strip()), None)


def model_name(results: Mapping[str, Any], folder: Path, layout: str) -> str:
    """The model of a run: the results file's ``model_name``, else its ``--model_args``, else the folder."""
    named = results.get("model_name")
    if isinstance(named, str) and named:
        return named
    for config in (results.get("config"), results.get("model_configs")):
        if isinstance(config, Mapping):
            found = model_args_name(config.get("model_args"))
            if found:
                return found
    return folder.name if layout == TRACKER else folder.name.partition("_model_args_")[0]


def _results(path: Path) -> tuple[dict[str, Any], str | None]:
    """A results file's object, or an empty one and the reason it could not be read."""
    if not path.is_file():
        return {}, None
    try:
        return read_object(path), None
    except DataError as exc:
        return {}, str(exc)


def find_task_logs(directory: Path) -> tuple[list[TaskLog], list[Skipped]]:
    """Every task log under ``directory``, and each other file with why it is not one."""
    logs: list[TaskLog] = []
    skipped: list[Skipped] = []
    for path in walk_files(directory):
        tracker = TRACKER_SAMPLES.match(path.name)
        if tracker is not None:
            results = _results(path.with_name(f"{tracker.group('stamp')}_results.json"))[0]
            logs.append(TaskLog(tracker.group("task"), path, TRACKER, tracker.group("stamp"), results))
        elif path.suffix == ".json" and path.name != OLD_RESULTS and (path.parent / OLD_RESULTS).is_file():
            results = _results(path.parent / OLD_RESULTS)[0]
            logs.append(TaskLog(path.stem, path, OLD, f"{path.stat().st_mtime:020.6f}", results))
        elif TRACKER_RESULTS.match(path.name) or path.name == OLD_RESULTS:
            problem = _results(path)[1]
            if problem is not None:
                skipped.append(Skipped(str(path), f"{problem} (the run's model and settings are not recorded)"))
        else:
            skipped.append(Skipped(str(path), "not an lmms-eval sample log (<time>_samples_<task>.jsonl, or "
                                              "<task>.json beside results.json)", routine=True))
    return logs, skipped


def read_samples(log: TaskLog) -> tuple[list[LoggedSample], list[dict[str, Any]]]:
    """The lines of a task log, and each line that is not a sample (with its place and reason)."""
    if log.layout == OLD:
        entries = read_object(log.path).get("logs")
        if not isinstance(entries, list):
            raise DataError(f"{log.path}: no 'logs' list (an lmms-eval v0.2 <task>.json has one)")
        numbered: Iterator[tuple[str, Any, str | None]] = (
            (f"{log.path}: logs[{i}]", entry, None) for i, entry in enumerate(entries))
    else:
        numbered = _json_lines(log.path)
    samples: list[LoggedSample] = []
    bad: list[dict[str, Any]] = []
    for where, entry, problem in numbered:
        if problem is None and isinstance(entry, Mapping) and "doc_id" in entry:
            samples.append(LoggedSample(log.task, entry, where))
        else:
            bad.append({"task": log.task, "doc_id": None, "where": where,
                        "reason": problem or "not a sample (no doc_id)"})
    return samples, bad


def _json_lines(path: Path) -> Iterator[tuple[str, Any, str | None]]:
    """(place, object, None) per line; (place, None, reason) for a line that is not JSON."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield f"{path}:{number}", json.loads(line), None
        except json.JSONDecodeError as exc:
            yield f"{path}:{number}", None, f"not valid JSON ({exc.msg})"
