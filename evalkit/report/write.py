"""One call that writes the leaderboard's three outputs from run directories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evalkit.config import Environment
from evalkit.errors import RunDirectoryError
from evalkit.files import write_atomic
from evalkit.report.html import write_html
from evalkit.report.leaderboard import Report, build_report
from evalkit.report.markdown import render_markdown
from evalkit.report.samples import collect_samples
from evalkit.report.xlsx import write_xlsx
from evalkit.run.folder import load_run


@dataclass(frozen=True)
class WrittenReport:
    report: Report
    markdown: str
    files: tuple[Path, ...]


def write_report(run_dirs: Sequence[Path], output: Path, *, labels: Sequence[str | None] | None = None,
                 environment: Environment | None = None) -> WrittenReport:
    """``leaderboard.xlsx``, ``leaderboard.md`` and ``leaderboard.html`` in ``output`` for the runs.

    ``labels`` name the runs in all three (None, or a None entry: the model's name); ``environment`` says where
    the runs' data may be read again for the sample browser's images (default: this process's environment).
    """
    runs = [load_run(path) for path in run_dirs]
    report = build_report(runs, labels=labels)
    markdown = render_markdown(report)
    samples = collect_samples(report, runs, environment or Environment.current())
    try:
        output.mkdir(parents=True, exist_ok=True)
        markdown_path = output / "leaderboard.md"
        write_atomic(markdown_path, markdown)
        xlsx_path = write_xlsx(report, output / "leaderboard.xlsx")
        html_path = output / "leaderboard.html"
        write_html(report, html_path, samples=samples.rows, sample_notes=samples.notes)
    except OSError as exc:
        raise RunDirectoryError(f"cannot write the report to {output}: {exc.strerror or exc}") from exc
    return WrittenReport(report, markdown, (Path(xlsx_path), markdown_path, html_path))
