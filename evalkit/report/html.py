"""The leaderboard as one self-contained HTML page: the runs' own scores, the paper's tables, radar chart, bar
charts, gaps, and a sample browser with every sample.

:func:`write_html` writes a single file with everything inline: the stylesheet and the scripts from
``evalkit/report/assets/`` (:data:`SCRIPTS`, joined into one inline script) and the report's data
(:mod:`evalkit.report.payload`) as one ``<script type="application/json">`` block. The page opens with a plain
table of every suite each run scored (metric, score, n, errors, protocol, note), whether or not the paper
reports that split; then the Table 2 leaderboard (sortable by clicking a column header), the radar chart, the
per-suite bar charts, the gaps to the reference models, the not-compared list and the sample browser (all
samples, a page at a time, filtered and sorted in the page; thumbnails where the run's data was readable when
the report was written). Nothing is fetched from the network.

Security: model outputs, dataset text and even run names are untrusted. No data is ever spliced into
HTML: it goes only into the JSON block, serialised with every ``<``, ``>``, ``&``, U+2028 and U+2029
written as a ``\\uXXXX`` escape (so neither ``</script>`` nor ``<!--`` can appear in it), and the page's
script builds nodes with ``textContent``/``setAttribute``. Images are kept only as data URLs matching
:data:`~evalkit.report.images.IMAGE_DATA_URL` (checked here and again in the page). A Content-Security-Policy
allows the page's own inline script and style (by hash) and ``data:`` images, nothing else.

The radar chart normalises each axis on its own: a model's point is its value divided by the highest
value among the plotted models on that suite, so the best plotted model touches the rim and suites on
different scales (MME's 0–2800 sum, OCRBench's 0–1000 count, percentages) share one chart.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import NotRequired, Required, TypedDict

from evalkit.files import write_atomic
from evalkit.report.images import IMAGE_DATA_URL, safe_image
from evalkit.report.leaderboard import Report
from evalkit.report.payload import RADAR_REFERENCES, Samples, build_payload

__all__ = [
    "IMAGE_DATA_URL", "RADAR_REFERENCES", "SCRIPTS", "SampleView", "Samples", "render_html", "safe_image",
    "script_json", "write_html",
]

SCRIPTS = ("report.js", "tables.js", "charts.js", "samples.js")
"""The page's script, in order: one function scope (``report.js`` holds the helpers and ``boot``)."""


class SampleView(TypedDict, total=False):
    """One scored sample as the sample browser shows it (a ``details.jsonl`` row joined with its prediction).

    ``instruction`` and ``prediction`` are lists (one entry per turn) for multi-turn suites; ``extracted``
    is what the scorer compared (None when nothing was extracted); ``score`` the sample's contribution
    (1.0 counts as correct, anything less as incorrect, None as not scored); ``answer``, when given, the
    reference answer as the scorer saw it. ``image_png_base64`` is an optional thumbnail: bare base64 PNG,
    or a full ``data:image/png|jpeg;base64,`` URL.
    """

    index: Required[int | str]
    instruction: Required[str | Sequence[str]]
    prediction: Required[str | Sequence[str] | None]
    extracted: Required[object]
    score: Required[float | None]
    answer: NotRequired[object]
    image_png_base64: NotRequired[str]


# ------------------------------------------------------------------------------------------ escaping
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(data: object) -> str:
    """``data`` as JSON safe to place inside ``<script type="application/json">``.

    Every ``<``, ``>`` and ``&`` becomes a ``\\u`` escape (JSON.parse reads them back), so the text can
    hold neither ``</script`` nor ``<!--``; U+2028/U+2029 are escaped too. NaN and infinities are errors.
    """
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda match: _JSON_ESCAPES[match.group(0)], text)


# ---------------------------------------------------------------------------------------------- page
def _asset(name: str) -> str:
    text = (resources.files("evalkit.report") / "assets" / name).read_text(encoding="utf-8")
    if re.search(r"</(script|style)|<!--", text, re.IGNORECASE):  # would end the inline element early
        raise ValueError(f"report asset {name} must not contain '</script', '</style' or '<!--'")
    return text


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>evalkit report</title>
<style>{css}</style>
</head>
<body>
<header class="top">
<h1 id="report-title">evalkit report</h1>
<p id="report-subtitle"></p>
<nav class="toc"><a href="#scores-section">Scores</a><a href="#leaderboard-section">Leaderboard</a>
<a href="#radar-section">Radar</a><a href="#bars-section">Per suite</a><a href="#gaps-section">Gaps</a>
<a href="#not-compared-section">Not compared</a><a href="#samples-section">Samples</a></nav>
</header>
<main>
<section class="card" id="scores-section"><h2>Scores</h2>
<p class="note">Every suite each run scored, as its scores.json has it, whether or not the paper reports that
split: the headline metric and score, the samples scored, those whose generation failed, the protocol, what else
to know, and where the value sits in the paper's tables (or why it does not).</p>
<div id="scores"><noscript>This report draws its tables and charts with JavaScript.</noscript></div>
</section>
<section class="card" id="leaderboard-section"><h2>Leaderboard</h2>
<p class="note">The paper's Table 2 layout: the runs first (highlighted), then the paper's models. Best comparable
value per column in bold on green; &#8224; marks a run value scored otherwise than the paper's numbers (hover for
why). Click a column header to sort (again to reverse, a third time to restore the order).</p>
<div id="leaderboard-table"></div>
</section>
<section class="card" id="radar-section"><h2>Runs against the reference models</h2><div id="radar"></div></section>
<section class="card" id="bars-section"><h2>Per suite</h2>
<p class="note">Every model with a value, best first; the runs in amber, the radar's reference models darker.</p>
<div id="bars"></div></section>
<section class="card" id="gaps-section"><h2>Gaps to the reference models</h2>
<p class="note">Each comparable run value minus the reference model's value in the paper.</p><div id="gaps"></div>
</section>
<section class="card" id="not-compared-section"><h2>Not compared</h2>
<p class="note">What the runs produced that the leaderboard leaves out, and why.</p><div id="not-compared"></div>
</section>
<section class="card" id="samples-section"><h2>Samples</h2>
<p class="note">Every scored sample, a page at a time. Pick a run and suite; filter by text in the prompt or
prediction and by outcome (full credit counts as correct). The state is kept in the address:
#run=&#8230;&amp;suite=&#8230;&amp;filter=&#8230;&amp;status=&#8230;&amp;sort=&#8230;&amp;page=&#8230;</p>
<div id="samples"></div></section>
</main>
<script type="application/json" id="report-data">{data}</script>
<script>{js}</script>
</body>
</html>
"""


def page_script() -> str:
    """The page's one inline script: :data:`SCRIPTS` joined inside one strict-mode function scope."""
    parts = "\n".join(_asset(name) for name in SCRIPTS)
    return f'(function () {{\n"use strict";\n{parts}\nboot();\n}})();\n'


def render_html(report: Report, *, samples: Samples | None = None, title: str | None = None,
                radar_references: Sequence[str] = RADAR_REFERENCES,
                sample_notes: Mapping[tuple[str, str], str] | None = None) -> str:
    """The page as a string (see :func:`write_html`)."""
    css, js = _asset("report.css"), page_script()
    csp = (f"default-src 'none'; img-src data:; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
           "base-uri 'none'; form-action 'none'")
    data = script_json(build_payload(report, samples=samples, title=title, radar_references=radar_references,
                                     sample_notes=sample_notes))
    return _PAGE.format(csp=csp, css=css, js=js, data=data)


def write_html(report: Report, path: Path | str, *, samples: Samples | None = None, title: str | None = None,
               radar_references: Sequence[str] = RADAR_REFERENCES,
               sample_notes: Mapping[tuple[str, str], str] | None = None) -> Path:
    """Write the report as one self-contained HTML file at ``path`` and return the path.

    ``samples`` feeds the sample browser: ``(run label, benchmark) -> [SampleView-shaped dicts]``; pass
    thumbnails as ``image_png_base64`` (oversized images are shrunk here). ``sample_notes`` says, per
    (run label, benchmark), why some or all images are missing. ``title`` replaces the default heading;
    ``radar_references`` are the baseline models the radar chart plots against the runs.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render_html(report, samples=samples, title=title, radar_references=radar_references,
                       sample_notes=sample_notes)
    write_atomic(target, text)
    return target
