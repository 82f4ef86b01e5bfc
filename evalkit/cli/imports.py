"""``evalkit import vlmevalkit|lmms-eval DIR --output RUN_DIR``: run the import, print what it wrote and skipped."""

from __future__ import annotations

import argparse

from evalkit.cli.summary import number, report_lines
from evalkit.cli.table import format_table
from evalkit.importers.run_writer import ImportOutcome
from evalkit.run.folder import MANIFEST

SKIPS_SHOWN = 10


def render_outcome(outcome: ImportOutcome) -> str:
    """The suites with their scores, the first skipped files (the manifest lists all), and where the run is."""
    harvest = outcome.harvest
    rows = []
    for suite in outcome.suites:
        rows.append((suite.name, suite.scored.suite.metric, number(suite.scored.suite.score), suite.answered,
                     suite.unmatched, suite.scored.document.get("protocol", "")))
    lines = [f"imported {len(outcome.suites)} suites of model '{harvest.model}' from {harvest.tool} "
             f"folder {harvest.directory}", "",
             format_table(("benchmark", "metric", "score", "samples", "unmatched", "protocol"), rows)]
    notable = [skipped for skipped in harvest.skipped if not skipped.routine]
    routine = len(harvest.skipped) - len(notable)
    if harvest.skipped:
        lines += ["", f"skipped {len(harvest.skipped)} files, each with its reason in {outcome.output / MANIFEST}"
                  + (f" ({routine} of them the tool's evaluation outputs, checkpoints and logs)" if routine else "")
                  + (":" if notable else "")]
        lines += [f"  {skipped.path}: {skipped.reason}" for skipped in notable[:SKIPS_SHOWN]]
        if len(notable) > SKIPS_SHOWN:
            lines.append(f"  … and {len(notable) - SKIPS_SHOWN} more")
    return "\n".join(lines)


def import_results(args: argparse.Namespace) -> int:
    """Import, print the summary, write the run's own leaderboard (as ``run`` does)."""
    from evalkit.cli.commands import write_report_quietly
    from evalkit.importers.importing import ImportRequest, import_folder, parse_data_files

    request = ImportRequest(tool=args.tool, directory=args.directory, output=args.output, protocol=args.protocol,
                            force=args.force, data_files=parse_data_files(args.data_file), judge=args.judge,
                            judge_base_url=args.judge_base_url, timeout=args.request_timeout,
                            max_retries=args.max_retries)
    outcome = import_folder(request)
    print(render_outcome(outcome))
    written = write_report_quietly(outcome.output)
    print("\n" + report_lines(outcome.output, written.files if written is not None else []))
    return 0
