"""The ``report`` command's engine: runs side by side with the InternVL 1.5 paper's baselines.

``load_run`` reads a run directory, ``build_report`` lines runs up with the baselines into one
:class:`Report`, and the writers render that one object: ``write_xlsx``, ``render_markdown`` (and the
HTML page in :mod:`evalkit.report.html`).
"""

from evalkit.report.baselines import Baseline, Baselines, BreakdownSection, ReportEntry, load_baselines
from evalkit.report.leaderboard import (
    Cell,
    Column,
    Gap,
    NotCompared,
    Report,
    Row,
    RunBreakdown,
    RunInfo,
    SuiteBreakdown,
    build_report,
)
from evalkit.report.markdown import render_markdown
from evalkit.report.safety import neutralise_formula
from evalkit.report.xlsx import write_xlsx
from evalkit.run.folder import RunFolder, SuiteFolder, load_run

__all__ = [
    "Baseline",
    "Baselines",
    "BreakdownSection",
    "Cell",
    "Column",
    "Gap",
    "NotCompared",
    "Report",
    "ReportEntry",
    "Row",
    "RunBreakdown",
    "RunFolder",
    "RunInfo",
    "SuiteBreakdown",
    "SuiteFolder",
    "build_report",
    "load_baselines",
    "load_run",
    "neutralise_formula",
    "render_markdown",
    "write_xlsx",
]
