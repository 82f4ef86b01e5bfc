"""What the regression gate writes: a Markdown summary (CI log, PR comment) and a JSON document (machines).

``write_outputs(result, DIR)`` writes ``DIR/summary.md`` (:func:`render_markdown`) and ``DIR/gate.json``
(:func:`to_json`). The JSON carries ``"version": 1``; fields are only ever added.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from evalkit.compare.gate import (
    FAIL_NOT_COMPARABLE,
    MISMATCH,
    NOT_COMPARED,
    NOT_SCORED,
    GateResult,
    Pairing,
    SuiteComparison,
)
from evalkit.compare.stats import IMPROVED, NO_CHANGE, REGRESSED
from evalkit.errors import EvalkitError
from evalkit.files import write_atomic, write_json_atomic

GATE_JSON_VERSION = 1
SUMMARY_FILE = "summary.md"
GATE_FILE = "gate.json"

MARKERS = {
    REGRESSED: "**REGRESSED**",
    IMPROVED: "IMPROVED",
    NO_CHANGE: "no significant change",
    MISMATCH: "MISMATCH (not compared)",
    NOT_SCORED: "NOT SCORED",
    NOT_COMPARED: "NOT COMPARED",
}

_IN_UNKNOWN_TABLE = ("not recorded by the ", "compared on what both runs recorded")
"""Notes shown by the table of facts an imported run did not record, so not repeated under the notes."""

_UNPAIRED_KINDS = (
    ("only_base", "only in base"),
    ("only_candidate", "only in candidate"),
    ("hash_changed", "same index, different sample_hash"),
    ("scored_base_only", "scored in base only"),
    ("scored_candidate_only", "scored in candidate only"),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _number(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _signed(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:+.{digits}f}"


def _p_value(value: float) -> str:
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def _value(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _row(suite: SuiteComparison) -> str:
    stats = suite.stats
    dagger = " †" if suite.headline_is_sample_mean is False else ""
    cells = [
        suite.suite, suite.metric, _number(suite.base_score), _number(suite.candidate_score),
        _signed(suite.delta) + dagger,
        _signed(stats.mean_diff) if stats else "–",
        f"[{stats.ci_low:+.2f}, {stats.ci_high:+.2f}]" if stats else "–",
        _p_value(stats.p_value) if stats else "–",
        stats.test if stats else "–",
        str(suite.pairing.paired) if suite.pairing else "–",
        MARKERS.get(suite.verdict, suite.verdict),
    ]
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _names(items: list[tuple[str, str]]) -> str:
    return ", ".join(suite for suite, _ in items)


def _headline(result: GateResult) -> str:
    uncompared = (f"{len(result.not_comparable)} suite(s) of the base not compared ({_names(result.not_comparable)})"
                  if result.not_comparable else "")
    if result.regressed:
        regressed = f"{len(result.regressed)} suite(s) regressed ({', '.join(result.regressed)})"
        return "# Regression gate: FAIL: " + "; ".join(part for part in (regressed, uncompared) if part)
    if result.verdict == FAIL_NOT_COMPARABLE:
        if uncompared:
            return f"# Regression gate: {FAIL_NOT_COMPARABLE}: {uncompared}"
        return (f"# Regression gate: {FAIL_NOT_COMPARABLE}: no suite was compared "
                f"({len(result.skipped)} skipped with --allow-missing)")
    skipped = (f" ({len(result.skipped)} suite(s) skipped with --allow-missing: {_names(result.skipped)})"
               if result.skipped else "")
    return "# Regression gate: PASS: no significant regression" + skipped


def _uncompared_lines(result: GateResult) -> list[str]:
    """The base suites not compared: failing the gate, or skipped under --allow-missing."""
    lines: list[str] = []
    for title, items in (("Not comparable (these fail the gate; --allow-missing skips them)", result.not_comparable),
                         ("Skipped (--allow-missing)", result.skipped)):
        if items:
            lines += ["", f"## {title}", "", "| Suite | Why |", "| --- | --- |"]
            lines += [f"| {_cell(suite)} | {_cell(reason)} |" for suite, reason in items]
    return lines


def _unknown_lines(suites: list[SuiteComparison]) -> list[str]:
    """Facts an imported run did not record, per suite, and what was compared instead."""
    rows = [suite for suite in suites if suite.unknown and not suite.mismatches]
    if not rows:
        return []
    lines = ["", "## Not recorded by an imported run (not checked)", "",
             "| Suite | Side | Imported from | Unknown | Compared on |", "| --- | --- | --- | --- | --- |"]
    for suite in rows:
        compared = next((note.split(": ", 1)[1] for note in suite.notes if note.startswith("compared on what")), "")
        for side in ("base", "candidate"):
            fields = [item for item in suite.unknown if item.side == side]
            if fields:
                lines.append(f"| {_cell(suite.suite)} | {side} | {_cell(fields[0].tool)} | "
                             f"{_cell(', '.join(item.field for item in fields))} | {_cell(compared)} |")
    return lines


def _unpaired_lines(suites: list[SuiteComparison]) -> list[str]:
    rows: list[tuple[SuiteComparison, Pairing]] = [
        (s, s.pairing) for s in suites if s.pairing is not None and (s.pairing.unpaired or s.pairing.unhashed)]
    if not rows:
        return []
    lines = ["", "## Unpaired samples", "",
             "Suites below were compared on their paired samples only.", "",
             "| Suite | paired | " + " | ".join(label for _, label in _UNPAIRED_KINDS) + " | no sample_hash |",
             "| --- | ---: | " + " | ".join("---:" for _ in _UNPAIRED_KINDS) + " | ---: |"]
    for suite, pairing in rows:
        counts = [str(getattr(pairing, kind)) for kind, _ in _UNPAIRED_KINDS]
        lines.append(f"| {_cell(suite.suite)} | {pairing.paired} | " + " | ".join(counts)
                     + f" | {pairing.unhashed} |")
    lines.append("")
    for suite, pairing in rows:
        for kind, label in _UNPAIRED_KINDS:
            examples = pairing.examples.get(kind)
            if examples:
                lines.append(f"- {_cell(suite.suite)}, {label}: e.g. index " + ", ".join(examples))
    return lines


def render_markdown(result: GateResult) -> str:
    """The summary for a CI log or a PR comment: verdict line, table, mismatches, suites not compared (failing
    or skipped), facts an imported run did not record, unpaired samples, notes."""
    settings = result.settings
    level = round((1.0 - settings.alpha) * 100, 2)
    level_text = f"{level:g}%"
    lines = [
        _headline(result), "",
        f"Base `{result.base_dir}` vs candidate `{result.candidate_dir}`. "
        f"Regressed means: headline worse by more than {settings.min_delta:g} point(s), p < {settings.alpha:g} "
        f"and the {level_text} CI below zero (bootstrap {settings.bootstrap} resamples, seed {settings.seed}).",
        "",
        f"| Suite | Metric | Base | Candidate | Δ | Δ per sample | {level_text} CI | p | Test | n paired | Verdict |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: | --- |",
    ]
    lines += [_row(suite) for suite in result.suites]
    lines += ["",
              "Δ is the headline score difference (candidate − base, on the scores.json scale). "
              "Δ per sample, the CI and p are on the paired per-sample scores (× 100 for fractions: "
              "percentage points). † the headline is not a mean of per-sample scores: "
              "the test is on per-sample scores."]
    mismatched = [s for s in result.suites if s.mismatches]
    if mismatched:
        lines += ["", "## Configuration mismatches (not compared)", ""]
        for suite in mismatched:
            for item in suite.mismatches:
                lines.append(f"- {_cell(suite.suite)}: `{item.field}` base {_cell(_value(item.base))} "
                             f"vs candidate {_cell(_value(item.candidate))}")
    lines += _uncompared_lines(result)
    lines += _unknown_lines(result.suites)
    lines += _unpaired_lines(result.suites)
    if result.only_base or result.only_candidate:
        lines += ["", "## Suites in one run only", ""]
        if result.only_base:
            lines.append("- only in base: " + ", ".join(result.only_base))
        if result.only_candidate:
            lines.append("- only in candidate: " + ", ".join(result.only_candidate))
    noted = [(s, [note for note in s.notes if not note.startswith(_IN_UNKNOWN_TABLE)])
             for s in result.suites if s.reason is None]
    if any(notes for _, notes in noted):
        lines += ["", "## Notes", ""]
        lines += [f"- {_cell(s.suite)}: " + "; ".join(_cell(n) for n in notes) for s, notes in noted if notes]
    return "\n".join(lines) + "\n"


def _suite_json(suite: SuiteComparison) -> dict[str, Any]:
    return {
        "suite": suite.suite, "metric": suite.metric, "higher_is_better": suite.higher_is_better,
        "base_score": suite.base_score, "candidate_score": suite.candidate_score, "delta": suite.delta,
        "verdict": suite.verdict, "headline_is_sample_mean": suite.headline_is_sample_mean,
        "n_paired": suite.pairing.paired if suite.pairing else 0,
        "stats": asdict(suite.stats) if suite.stats else None,
        "pairing": ({**asdict(suite.pairing), "unpaired": suite.pairing.unpaired} if suite.pairing else None),
        "mismatches": [asdict(item) for item in suite.mismatches],
        "unknown_fields": [asdict(item) for item in suite.unknown],
        "reason_not_compared": suite.reason,
        "notes": list(suite.notes),
    }


def to_json(result: GateResult) -> dict[str, Any]:
    """Everything the gate found plus its settings, as plain JSON-ready data."""
    return {
        "version": GATE_JSON_VERSION,
        "base": result.base_dir,
        "candidate": result.candidate_dir,
        "settings": asdict(result.settings),
        "verdict": result.verdict,
        "exit_code": result.exit_code,
        "passed": result.exit_code == 0,
        "allow_missing": result.allow_missing,
        "not_comparable": [{"suite": suite, "reason": reason} for suite, reason in result.not_comparable],
        "skipped": [{"suite": suite, "reason": reason} for suite, reason in result.skipped],
        "regressed": result.regressed,
        "improved": result.improved,
        "mismatched": result.mismatched,
        "only_base": list(result.only_base),
        "only_candidate": list(result.only_candidate),
        "suites": [_suite_json(suite) for suite in result.suites],
    }


def write_outputs(result: GateResult, output_dir: str | Path) -> tuple[Path, Path]:
    """Write ``summary.md`` and ``gate.json`` into ``output_dir`` (created if needed); returns their paths."""
    folder = Path(output_dir)
    summary, gate = folder / SUMMARY_FILE, folder / GATE_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(summary, render_markdown(result))
        write_json_atomic(gate, to_json(result))
    except OSError as exc:
        raise EvalkitError(f"{folder}: cannot write the gate's outputs ({exc.strerror or exc})") from exc
    return summary, gate
