"""What each run is called in a report: the model's name by default, or the user's ``--label NAME=RUN_DIR``.

A label names the run's row in all three outputs (xlsx, Markdown, HTML), so labels must be unique among the
runs and must not be the name of a paper baseline (the row would be confused with the paper's). A label the
user chose that breaks either rule is an error naming the flag; a default label that does is made unique by
adding the run folder's name, then a counter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from pathlib import Path

from evalkit.errors import EvalkitError
from evalkit.run.folder import RunFolder

LabelledRun = tuple[Path, str | None]
"""A run directory and the label the user gave it (None: the default label)."""


def runs_with_labels(plain: Sequence[Path], labelled: Sequence[tuple[str, Path]]) -> list[LabelledRun]:
    """The report's runs in order: the plain RUN_DIRs, then each ``--label``'s run not already among them.

    A labelled run that is also given plainly is the same run, named by its label. A run labelled twice, or two
    runs given one label, is an error naming the ``--label`` at fault.
    """
    runs: list[LabelledRun] = [(path, None) for path in plain]
    position = {path.resolve(): number for number, (path, _) in enumerate(runs)}
    names: dict[str, Path] = {}
    for name, path in labelled:
        if name in names:
            raise EvalkitError(f"--label {name}={path}: the label {name!r} is already given to {names[name]}")
        names[name] = path
        number = position.get(path.resolve())
        if number is None:
            position[path.resolve()] = len(runs)
            runs.append((path, name))
        elif runs[number][1] is not None:
            raise EvalkitError(f"--label {name}={path}: that run is already labelled {runs[number][1]!r}")
        else:
            runs[number] = (runs[number][0], name)
    if not runs:
        raise EvalkitError("report: name at least one RUN_DIR (or --label NAME=RUN_DIR)")
    return runs


def _default_labels(runs: Sequence[RunFolder], taken: Collection[str]) -> list[str]:
    """Model names, with the run folder added where two runs share a model (or the name is taken), then a counter."""
    models = Counter(run.model for run in runs)
    labels = [run.model if models[run.model] == 1 and run.model not in taken else f"{run.model} ({run.path.name})"
              for run in runs]
    total, seen = Counter(labels), Counter[str]()
    for index, label in enumerate(labels):
        seen[label] += 1
        unique = total[label] == 1 and label not in taken
        labels[index] = label if unique else f"{label} #{seen[label]}"
    return labels


def run_labels(runs: Sequence[RunFolder], given: Sequence[str | None], baseline_models: Collection[str]) -> list[str]:
    """Each run's label: ``given`` where not None (checked), else a unique default."""
    if len(given) != len(runs):
        raise ValueError(f"{len(given)} labels for {len(runs)} runs")
    chosen = [name for name in given if name is not None]
    for name, run in zip(given, runs, strict=True):
        if name is None:
            continue
        if not name.strip():
            raise EvalkitError(f"--label ={run.path}: the label is empty")
        if name in baseline_models:
            raise EvalkitError(f"--label {name}={run.path}: {name!r} is a model of the paper's tables; choose "
                               "another label")
        if chosen.count(name) > 1:
            raise EvalkitError(f"--label {name}={run.path}: the label {name!r} is given to two runs")
    unnamed = [run for run, name in zip(runs, given, strict=True) if name is None]
    defaults = iter(_default_labels(unnamed, {*chosen, *baseline_models}))
    return [name if name is not None else next(defaults) for name in given]
