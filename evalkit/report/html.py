"""The leaderboard as one self-contained HTML page: table, radar chart, bar charts, sample browser.

:func:`write_html` writes a single file with everything inline: the stylesheet and script from
``evalkit/report/assets/`` and the report's data as one ``<script type="application/json">`` block.
The page's script (``assets/report.js``) draws the Table 2 leaderboard (sortable by clicking a column
header), the radar chart, the per-suite bar charts, the gaps to the reference models, the not-compared
list and the sample browser from that data. Nothing is fetched from the network.

Security: model outputs, dataset text and even run names are untrusted. No data is ever spliced into
HTML: it goes only into the JSON block, serialised with every ``<``, ``>``, ``&``, U+2028 and U+2029
written as a ``\\uXXXX`` escape (so neither ``</script>`` nor ``<!--`` can appear in it), and the page's
script builds nodes with ``textContent``/``setAttribute``. Images are kept only as data URLs matching
:data:`IMAGE_DATA_URL` (checked here and again in the page). A Content-Security-Policy allows the page's
own inline script and style (by hash) and ``data:`` images, nothing else.

The radar chart normalises each axis on its own: a model's point is its value divided by the highest
value among the plotted models on that suite, so the best plotted model touches the rim and suites on
different scales (MME's 0–2800 sum, OCRBench's 0–1000 count, percentages) share one chart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, NotRequired, Required, TypedDict

from PIL import Image

from evalkit.files import write_atomic
from evalkit.report.leaderboard import Report, Row
from evalkit.run.folder import RunFolder, lenient_json_lines

__all__ = [
    "IMAGE_DATA_URL", "RADAR_REFERENCES", "SampleView", "Samples", "render_html", "samples_from_run", "write_html",
]

RADAR_REFERENCES = ("GPT-4V", "Gemini Ultra 1.0", "Gemini Pro 1.5")
"""The baseline models the radar chart plots against the runs (those present in the report)."""
RADAR_SECTION = "Table 2"
"""The paper table whose columns are the radar chart's axes (Figure 1 of the paper spans Table 2)."""
IMAGE_DATA_URL = re.compile(r"^data:image/(png|jpeg);base64,[A-Za-z0-9+/=]+$")
"""The only image sources the page shows; anything else is dropped."""
MAX_IMAGE_CHARS = 400_000
"""Images whose data URL is longer than this are shrunk to a thumbnail (or dropped if that fails)."""
THUMBNAIL_PX = 240
RADAR_METHOD = (
    "Each axis is one Table 2 suite on which a run has a value. A model's point is its value divided by the "
    "highest value among the plotted models on that suite: the best of them touches the rim (100%), and suites "
    "on different scales (MME's sum, OCRBench's 0–1000, percentages) share one chart. A point at the centre "
    "means no value. Hover a point for the raw number."
)


class SampleView(TypedDict, total=False):
    """One scored sample as the sample browser shows it (a ``details.jsonl`` row joined with its prediction).

    ``instruction`` and ``prediction`` are lists (one entry per turn) for multi-turn suites; ``extracted``
    is what the scorer compared (None when nothing was extracted); ``score`` the sample's contribution
    (1.0 counts as correct, anything less as incorrect, None as not scored); ``answer``, when given, the
reference answer as the scorer saw it. ``image_png_base64`` is an
    optional thumbnail: bare base64 PNG, or a full ``data:image/png|jpeg;base64,`` URL.
    """

    index: Required[int | str]
    instruction: Required[str | Sequence[str]]
    prediction: Required[str | Sequence[str] | None]
    extracted: Required[object]
    score: Required[float | None]
    answer: NotRequired[object]
    image_png_base64: NotRequired[str]


Samples = Mapping[tuple[str, str], Sequence[Mapping[str, Any]]]
"""``(run label, benchmark name) -> samples`` (each shaped like :class:`SampleView`). The run label is
``RunInfo.label`` of the report; the benchmark is the suite's name (``"DocVQA_VAL"``)."""


# ------------------------------------------------------------------------------------------ escaping
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(data: object) -> str:
    """``data`` as JSON safe to place inside ``<script type="application/json">``.

    Every ``<``, ``>`` and ``&`` becomes a ``\\u`` escape (JSON.parse reads them back), so the text can
    hold neither ``</script`` nor ``<!--``; U+2028/U+2029 are escaped too. NaN and infinities are errors.
    """
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda match: _JSON_ESCAPES[match.group(0)], text)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _texts(value: object) -> list[str]:
    """A prompt or prediction as a list of turns; None becomes no turns, anything else its str()."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return ["" if item is None else str(item) for item in value]
    return [str(value)]


def safe_image(value: object) -> str | None:
    """A data URL the page may show, from bare base64 PNG or a data URL; None when it is not one.

    Oversized images are re-encoded as a PNG thumbnail of at most ``THUMBNAIL_PX`` pixels a side.
    """
    if not isinstance(value, str) or not value:
        return None
    url = value if value.startswith("data:") else f"data:image/png;base64,{value}"
    if not IMAGE_DATA_URL.match(url):
        return None
    if len(url) <= MAX_IMAGE_CHARS:
        return url
    try:
        with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1], validate=True))) as image:
            image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
            out = io.BytesIO()
            image.convert("RGB").save(out, format="PNG", optimize=True)
    except (OSError, ValueError, binascii.Error, Image.DecompressionBombError):
        return None
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


# ------------------------------------------------------------------------------------------- payload
def _row(row: Row, keys: Sequence[str]) -> dict[str, Any]:
    values: dict[str, float] = {}
    best: dict[str, bool] = {}
    flags: dict[str, str] = {}
    notes: dict[str, str] = {}
    for key, cell in zip(keys, row.cells, strict=True):
        if cell is None:
            continue
        values[key] = cell.value
        if cell.best:
            best[key] = True
        if not cell.comparable:
            flags[key] = "\u2020"
        note = "; ".join(part for part in (cell.note, cell.source) if part)
        if note:
            notes[key] = note
    return {"name": row.label, "kind": row.kind, "params": row.params, "open_source": row.open_source,
            "params_b": _params_billions(row.params), "values": values, "best": best, "flags": flags, "notes": notes}


def _params_billions(params: str | None) -> float | None:
    match = re.fullmatch(r"\s*([0-9.]+)\s*B\s*", params or "")
    return float(match.group(1)) if match else None


def _sections(report: Report) -> list[dict[str, Any]]:
    """The paper's tables (Table 2, Table 3's parts, grounding), each with its column keys in order."""
    return [{"name": name, "keys": [column.key for column in columns]} for name, columns in report.sections()]


def _radar(report: Report, payload_rows: Sequence[Mapping[str, Any]], references: Sequence[str]) -> dict[str, Any]:
    runs = [row["name"] for row in payload_rows if row["kind"] == "run"]
    present = {row["name"] for row in payload_rows}
    models = runs + [name for name in references if name in present]
    plotted = [row for row in payload_rows if row["name"] in models]
    table2 = [column.key for column in report.columns if column.section == RADAR_SECTION]
    axes = [key for key in table2 if any(row["kind"] == "run" and key in row["values"] for row in plotted)]
    if len(axes) < 3:
        axes = [key for key in table2 if any(key in row["values"] for row in plotted)]
    return {"models": models, "axes": axes, "method": RADAR_METHOD}


def _breakdown(report: Report, run: str, benchmark: str) -> dict[str, Any] | None:
    """One run's result on one suite (headline and breakdown tables), for the sample browser."""
    for suite in report.breakdowns:
        for entry in suite.runs:
            if suite.benchmark == benchmark and entry.run == run:
                return {
                    "metric": entry.metric, "score": entry.score, "n": entry.n, "protocol": entry.protocol,
                    "reason": entry.reason,
                    "sections": [{"name": section.name, "columns": list(section.columns),
                                  "rows": [[name, [_cell(value) for value in values]] for name, values in section.rows]}
                                 for section in entry.sections],
                }
    return None


def _cell(value: object) -> float | str | None:
    number = _number(value)
    return number if number is not None or value is None else str(value)


def _answer(value: object) -> str:
    return " | ".join(str(part) for part in value) if isinstance(value, list | tuple) else str(value)


def _suite_title(report: Report, benchmark: str) -> str:
    return next((suite.title for suite in report.breakdowns if suite.benchmark == benchmark), benchmark)


def _samples(report: Report, samples: Samples | None) -> list[dict[str, Any]]:
    groups = []
    for (run, benchmark), items in (samples or {}).items():
        views = []
        for item in items:
            extracted = item.get("extracted")
            views.append({
                "index": str(item.get("index", "")),
                "instruction": _texts(item.get("instruction", item.get("prompt"))),
                "prediction": _texts(item.get("prediction")),
                "extracted": None if extracted is None else str(extracted),
                "answer": None if item.get("answer") is None else _answer(item.get("answer")),
                "score": _number(item.get("score")),
                "image": safe_image(item.get("image_png_base64")),
            })
        groups.append({"run": str(run), "suite": str(benchmark), "title": _suite_title(report, str(benchmark)),
                       "breakdown": _breakdown(report, str(run), str(benchmark)), "items": views})
    return groups


def build_payload(report: Report, *, samples: Samples | None = None, title: str | None = None,
                  radar_references: Sequence[str] = RADAR_REFERENCES) -> dict[str, Any]:
    """Everything the page draws, as plain JSON-able data (the contents of the ``#report-data`` block)."""
    keys = [column.key for column in report.columns]
    rows = [_row(row, keys) for row in report.rows]
    run_labels = [run.label for run in report.runs]
    columns = [{
        "key": column.key, "label": column.label, "section": column.section, "decimals": column.decimals,
        "sub": column.split or "", "metric": column.metric or "", "higher_is_better": True,
    } for column in report.columns]
    gaps = [{"run": gap.run, "suite": gap.column, "reference": gap.reference, "value": gap.run_value,
             "reference_value": gap.reference_value, "gap": gap.delta} for gap in report.gaps]
    not_compared = [{"run": item.run, "suite": item.benchmark, "reason": item.reason, "value": item.value}
                    for item in report.not_compared]
    baselines = sum(1 for row in report.rows if row.kind == "baseline")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return {
        "schema": 1,
        "title": title or f"evalkit leaderboard: {', '.join(run_labels) or 'paper baselines'}",
        "subtitle": f"{len(run_labels)} run(s) against {baselines} models of the InternVL 1.5 paper · "
                    f"written {stamp}",
        "columns": columns,
        "sections": _sections(report),
        "rows": rows,
        "radar": _radar(report, rows, radar_references),
        "bars": [key for key in keys if any(key in row["values"] for row in rows)],
        "gaps": gaps,
        "not_compared": not_compared,
        "samples": _samples(report, samples),
    }


def samples_from_run(run: RunFolder, label: str, *, limit: int | None = None) -> dict[tuple[str, str], list[Any]]:
    """The sample browser's rows for one run (no images): per suite, ``details.jsonl`` joined by ``index``
    with ``predictions.jsonl`` (for the instruction), at most ``limit`` per suite. ``label`` is the run's
    ``RunInfo.label`` in the report."""
    result: dict[tuple[str, str], list[Any]] = {}
    for name, suite in run.suites.items():
        prompts = {str(row.get("index")): row for row in lenient_json_lines(suite.predictions_path)}
        rows = []
        for detail in lenient_json_lines(suite.details_path)[:limit]:
            prediction = prompts.get(str(detail.get("index")), {})
            rows.append({**detail, "instruction": prediction.get("instruction", prediction.get("prompt")),
                         "prediction": detail.get("prediction", prediction.get("prediction"))})
        result[(label, name)] = rows
    return result


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
<nav class="toc"><a href="#leaderboard-section">Leaderboard</a><a href="#radar-section">Radar</a>
<a href="#bars-section">Per suite</a><a href="#gaps-section">Gaps</a><a href="#not-compared-section">Not compared</a>
<a href="#samples-section">Samples</a></nav>
</header>
<main>
<section class="card" id="leaderboard-section"><h2>Leaderboard</h2>
<p class="note">The paper's Table 2 layout: the runs first (highlighted), then the paper's models. Best comparable
value per column in bold on green; &#8224; marks a run value scored otherwise than the paper's numbers (hover for
why). Click a column header to sort (again to reverse, a third time to restore the order).</p>
<div id="leaderboard-table"><noscript>This report draws its tables and charts with JavaScript.</noscript></div>
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
<p class="note">Pick a run and suite; filter by text in the prompt or prediction and by outcome (full credit counts
as correct). The state is kept in the address:
#run=&#8230;&amp;suite=&#8230;&amp;filter=&#8230;&amp;status=&#8230;&amp;sort=&#8230;</p>
<div id="samples"></div></section>
</main>
<script type="application/json" id="report-data">{data}</script>
<script>{js}</script>
</body>
</html>
"""


def render_html(report: Report, *, samples: Samples | None = None, title: str | None = None,
                radar_references: Sequence[str] = RADAR_REFERENCES) -> str:
    """The page as a string (see :func:`write_html`)."""
    css, js = _asset("report.css"), _asset("report.js")
    csp = (f"default-src 'none'; img-src data:; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
           "base-uri 'none'; form-action 'none'")
    data = script_json(build_payload(report, samples=samples, title=title, radar_references=radar_references))
    return _PAGE.format(csp=csp, css=css, js=js, data=data)


def write_html(report: Report, path: Path | str, *, samples: Samples | None = None, title: str | None = None,
               radar_references: Sequence[str] = RADAR_REFERENCES) -> Path:
    """Write the report as one self-contained HTML file at ``path`` and return the path.

    ``samples`` feeds the sample browser: ``(run label, benchmark) -> [SampleView-shaped dicts]``; pass
    thumbnails as ``image_png_base64`` (oversized images are shrunk here). ``title`` replaces the default
    heading; ``radar_references`` are the baseline models the radar chart plots against the runs.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render_html(report, samples=samples, title=title, radar_references=radar_references)
    write_atomic(target, text)
    return target
