"""What ``evalkit import`` prints: the suites written with their scores, and what was skipped."""

from __future__ import annotations

from evalkit.cli.table import format_table
from evalkit.importers.run_writer import ImportOutcome
from evalkit.run.folder import MANIFEST

SKIPS_SHOWN = 10


def render_outcome(outcome: ImportOutcome) -> str:
    """The summary table, the skipped files (the first few; the manifest lists all), and where the run is."""
    harvest = outcome.harvest
    rows = []
    for suite in outcome.suites:
        score = suite.scored.suite.score
        rows.append((suite.name, suite.scored.suite.metric, "not scored" if score is None else f"{score:.2f}",
                     suite.answered, suite.unmatched, suite.scored.document.get("protocol", "")))
    lines = [f"imported {len(outcome.suites)} suites of model '{harvest.model}' from {harvest.tool} "
             f"folder {harvest.directory}", "",
             format_table(("benchmark", "metric", "score", "samples", "unmatched", "protocol"), rows)]
    if harvest.skipped:
        lines += ["", f"skipped {len(harvest.skipped)} (each with its reason in {outcome.output / MANIFEST}):"]
        lines += [f"  {skipped.path}: {skipped.reason}" for skipped in harvest.skipped[:SKIPS_SHOWN]]
        if len(harvest.skipped) > SKIPS_SHOWN:
            lines.append(f"  … and {len(harvest.skipped) - SKIPS_SHOWN} more")
    lines += ["", f"run directory: {outcome.output} (per benchmark: predictions.jsonl, scores.json, details.jsonl; "
                  "manifest.json)"]
    return "\n".join(lines)
