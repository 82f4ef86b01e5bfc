"""What ``run`` and ``score`` print when they finish: the run's own table, notes whole, and the report's files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.cli.table import format_table
from evalkit.scoring.suite import ScoredBenchmark

if TYPE_CHECKING:
    from evalkit.run.runner import BenchmarkOutcome

#: The widest note kept in the table's cell; a longer one is printed whole under the table.
NOTE_WIDTH = 72

RUN_HEADERS = ("benchmark", "metric", "score", "n", "generated", "reused", "errors", "note")


def number(value: float | None) -> str:
    return "not scored" if value is None else f"{value:.2f}"


def format_score(scored: ScoredBenchmark | None) -> str:
    return number(scored.suite.score if scored is not None else None)


def other_protocol(document: dict[str, Any]) -> dict[str, Any]:
    other = document.get("other_protocol")
    return other if isinstance(other, dict) else {}


def score_note(scored: ScoredBenchmark | None) -> str:
    """Why a suite is not scored, or what the other protocol scores where it differs; never cut short."""
    if scored is None:
        return ""
    if scored.suite.score is None:
        return scored.suite.reason or ""
    other = other_protocol(scored.document)
    differ = other.get("samples_scored_differently", 0)
    if not differ:
        return ""
    return f"{other.get('protocol')}: {number(other.get('other_score'))} (scores {differ} samples differently)"


def run_table(outcomes: Sequence[BenchmarkOutcome]) -> str:
    """One row per suite the run ran: its metric and score, n, what was generated or reused, errors, the note.

    A note longer than :data:`NOTE_WIDTH` would stretch every row: its cell says ``note N`` and the note is
    printed whole under the table."""
    rows: list[tuple[object, ...]] = []
    notes: list[str] = []
    for o in outcomes:
        note = score_note(o.scored)
        if len(note) > NOTE_WIDTH:
            notes.append(f"note {len(notes) + 1} ({o.name}): {note}")
            note = f"note {len(notes)}, below"
        rows.append((o.name, o.scored.suite.metric if o.scored else "", format_score(o.scored),
                     o.scored.suite.n if o.scored else o.samples, o.generated, o.reused, o.errors, note))
    return "\n".join([format_table(RUN_HEADERS, rows), *notes])


def report_lines(run_dir: Path, files: Sequence[Path]) -> str:
    """Where the run's files are, then one line per report file."""
    lines = [f"run directory: {run_dir} (per benchmark: predictions.jsonl, scores.json, details.jsonl; "
             "manifest.json)"]
    lines += [f"report: {path}" for path in files]
    return "\n".join(lines)


def protocols_table(scored: ScoredBenchmark, protocol: str) -> str:
    """``score``'s table: both protocols' headline numbers side by side, the one ``scores.json`` holds marked."""
    other = other_protocol(scored.document)
    other_name = str(other.get("protocol", ""))
    scores = {protocol: format_score(scored), other_name: number(other.get("other_score"))}
    names = sorted(scores, key=lambda name: name != "paper")  # the paper's protocol first
    headers = ("benchmark", "metric", *(f"{name} (scores.json)" if name == protocol else name for name in names),
               "n", "differ", "note")
    note = scored.suite.reason or "" if scored.suite.score is None else ""
    row = (scored.name, scored.suite.metric, *(scores[name] for name in names), scored.suite.n,
           other.get("samples_scored_differently", 0), note)
    held = (f"scores.json holds the {protocol} protocol's score" +
            (f"; --protocol {other_name} makes that one the headline" if other_name else ""))
    return format_table(headers, [row]) + "\n" + held
