"""One call that writes the leaderboard's three outputs from run directories."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


def write_report(run_dirs: list[Path], output: Path) -> WrittenReport:
    """``leaderboard.xlsx``, ``leaderboard.md`` and ``leaderboard.html`` in ``output`` for the runs."""
    runs = [load_run(path) for path in run_dirs]
    report = build_report(runs)
    markdown = render_markdown(report)
    try:
        output.mkdir(parents=True, exist_ok=True)
        markdown_path = output / "leaderboard.md"
        write_atomic(markdown_path, markdown)
        xlsx_path = write_xlsx(report, output / "leaderboard.xlsx")
        html_path = output / "leaderboard.html"
        write_html(report, html_path, samples=collect_samples(report, runs))
    except OSError as exc:
        raise RunDirectoryError(f"cannot write the report to {output}: {exc.strerror or exc}") from exc
    return WrittenReport(report, markdown, (Path(xlsx_path), markdown_path, html_path))
