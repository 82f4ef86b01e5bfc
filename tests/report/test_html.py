"""The HTML report: static checks on the file, then the page as headless chromium renders it."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from evalkit.report.baselines import load_baselines
from evalkit.report.html import safe_image, script_json, write_html
from evalkit.report.leaderboard import Report, build_report
from evalkit.report.payload import build_payload
from evalkit.report.samples import samples_from_run
from evalkit.run.folder import load_run
from tests.report import alpha_suites, beta_suites, group_items, write_run
from tests.report.browser import CHROMIUM, SKIP_REASON, Node, dump_dom, file_url, parse_dom, screenshot

ALPHA = "alpha-7b"
BETA = "beta <i>26b</i>"  # run names are untrusted too
TITLE = "evalkit test report"
SCRIPT_PAYLOAD = "<script>window.pwned=1</script>"
IMG_PAYLOAD = "<img id=\"pwned\" src=x onerror=\"document.title='pwned'\">"
BREAKOUT = "</script><script>document.title='pwned'</script><!-- \u2028 \u2029"
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)


def png_base64(colour: tuple[int, int, int] = (200, 30, 30)) -> str:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), colour).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode("ascii")


def chartqa_samples() -> list[dict[str, Any]]:
    return [
        {"index": 0, "instruction": "What is the highest bar?", "prediction": "42", "extracted": "42", "score": 1.0,
         "answer": ["42", "forty-two"], "image_png_base64": png_base64()},
        {"index": 1, "instruction": "Which year?", "prediction": SCRIPT_PAYLOAD, "extracted": None, "score": 0.0},
        {"index": 2, "instruction": "Which colour?", "prediction": IMG_PAYLOAD, "extracted": "red", "score": 0.0,
         "image_png_base64": "javascript:alert(1)"},
        {"index": 3, "instruction": BREAKOUT, "prediction": "seven", "extracted": "7", "score": 0.5,
         "image_png_base64": "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="},
        {"index": 4, "instruction": "Unscored question", "prediction": "maybe", "extracted": None, "score": None},
        {"index": 5, "instruction": ["first turn?", "second turn?"], "prediction": ["one", "two"], "extracted": "two",
         "score": 1.0},
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Report:
    root = tmp_path_factory.mktemp("runs")
    alpha = load_run(write_run(root / "alpha", ALPHA, alpha_suites()))
    beta = load_run(write_run(root / "beta", BETA, beta_suites()))
    return build_report([alpha, beta], load_baselines())


@pytest.fixture(scope="module")
def samples() -> dict[tuple[str, str], list[dict[str, Any]]]:
    return {(ALPHA, "ChartQA_TEST"): chartqa_samples(),
            (BETA, "DocVQA_TEST"): [{"index": "q-1", "instruction": "Total?", "prediction": "12", "extracted": "12",
                                     "score": 0.75}]}


@pytest.fixture(scope="module")
def page(report, samples, tmp_path_factory) -> Path:
    return write_html(report, tmp_path_factory.mktemp("html") / "report.html", samples=samples, title=TITLE)


def data_block(text: str) -> str:
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', text, re.DOTALL)
    assert match is not None
    return match.group(1)


# --------------------------------------------------------------------------------------------- static
def test_the_page_is_self_contained(page):
    text = page.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    shell = text.replace(data_block(text), "")  # the data is inert text (checked below); the rest is markup
    assert not re.search(r"\b(?:src|href|action|srcset)\s*=\s*(?![\"']?#)", shell), "only #anchors may be referenced"
    assert not re.search(r"url\(|@import|<link|<iframe|<object|<embed", shell, re.IGNORECASE)
    assert "default-src 'none'" in text  # the Content-Security-Policy


def test_the_json_block_parses_and_cannot_break_out(page, report, samples):
    text = page.read_text(encoding="utf-8")
    block = data_block(text)
    assert "</" not in block and "<!--" not in block and "<" not in block
    assert "\u2028" not in block and "\u2029" not in block
    data = json.loads(block)
    assert data["title"] == TITLE
    assert [row["name"] for row in data["rows"][:3]] == [ALPHA, BETA, "GPT-4V"]
    assert data["radar"]["models"][:2] == [ALPHA, BETA] and "GPT-4V" in data["radar"]["models"]
    items = group_items(data, data["samples"][0])
    assert items[1]["prediction"] == [SCRIPT_PAYLOAD] and items[3]["instruction"] == [BREAKOUT]
    assert [item["image"] is not None for item in items] == [True, False, False, False, False, False]
    assert items[5]["instruction"] == ["first turn?", "second turn?"] and items[4]["score"] is None
    # the block holds exactly what build_payload returns (timestamps aside)
    expected = build_payload(report, samples=samples, title=TITLE)
    assert {key: value for key, value in data.items() if key != "subtitle"} == \
        {key: value for key, value in expected.items() if key != "subtitle"}


def test_script_json_round_trips_hostile_text():
    hostile = {"a": BREAKOUT + "&amp; <b> > \u2028", "n": [1, 2.5, None]}
    encoded = script_json(hostile)
    assert json.loads(encoded) == hostile and not re.search("[<>&\u2028\u2029]", encoded)
    with pytest.raises(ValueError):
        script_json({"x": float("nan")})


def test_safe_image_keeps_only_png_and_jpeg_data_urls():
    raw = png_base64()
    assert safe_image(raw) == f"data:image/png;base64,{raw}"
    assert safe_image(f"data:image/jpeg;base64,{raw}") == f"data:image/jpeg;base64,{raw}"
    for bad in ("javascript:alert(1)", "data:image/svg+xml;base64,PHN2Zz4=", "data:image/png;base64,ab\"onload=x",
                "data:text/html;base64,PGI+", "", None, 42):
        assert safe_image(bad) is None


def test_an_oversized_image_becomes_a_thumbnail():
    out = io.BytesIO()
    Image.effect_noise((900, 900), 80).convert("RGB").save(out, format="PNG")
    thumb = safe_image(base64.b64encode(out.getvalue()).decode("ascii"))
    assert thumb is not None and thumb.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(thumb.split(",", 1)[1]))) as image:
        assert max(image.size) <= 240


def test_samples_from_run_joins_details_with_the_instructions(tmp_path):
    root = write_run(tmp_path / "run", ALPHA, {"MME": alpha_suites()["MME"]})
    details = [{"index": i, "prediction": f"p{i}", "extracted": "yes", "score": float(i % 2)} for i in range(3)]
    (root / "MME" / "details.jsonl").write_text("".join(json.dumps(row) + "\n" for row in details) + "{broken\n")
    prompts = [{"index": i, "instruction": f"q{i}", "prompt": f"USER: q{i}", "prediction": f"p{i}", "error": None}
               for i in (1, 0)]
    (root / "MME" / "predictions.jsonl").write_text("".join(json.dumps(row) + "\n" for row in prompts))
    rows = samples_from_run(load_run(root), ALPHA)[(ALPHA, "MME")]
    assert [(row["index"], row["instruction"], row["prediction"], row["score"]) for row in rows] == [
        (0, "q0", "p0", 0.0), (1, "q1", "p1", 1.0), (2, None, "p2", 0.0)]


# -------------------------------------------------------------------------------------------- browser
def cells(table: Node, model: str) -> dict[str, str]:
    row = table.find("tr", data_model=model)
    return {td.attrs["data-suite"]: td.text() for td in row.find_all("td") if "data-suite" in td.attrs}


def sample_rows(dom: Node) -> list[Node]:
    return dom.find("table", id="sample-table").find_all("tr", cls="sample")


@pytest.fixture(scope="module")
def dom(page) -> Node:
    return parse_dom(dump_dom(file_url(page)))


@needs_chromium
def test_the_leaderboard_renders_with_the_runs_first_and_best_marked(dom):
    body = dom.find("body")
    assert body.attrs.get("data-ready") == "1" and "data-error" not in body.attrs
    table = dom.find("table", id="leaderboard-0")
    models = [tr.attrs["data-model"] for tr in table.find("tbody").find_all("tr")]
    assert models[:3] == [ALPHA, BETA, "GPT-4V"]
    assert table.find("tr", data_model=ALPHA).classes >= {"run"}
    alpha = cells(table, ALPHA)
    assert (alpha["ChartQA"], alpha["OCRBench"], alpha["MME"], alpha["DocVQA"]) == ("80.0", "700", "2000.5", "\u2013")
    assert alpha["AI2D"] == "99.0\u2020"  # scored under vlmevalkit: shown, flagged, not best
    beta = cells(table, BETA)
    assert beta["DocVQA"] == "95.0" and beta["ChartQA"] == "83.8"
    assert "best" in table.find("tr", data_model=BETA).find("td", data_suite="DocVQA").classes
    assert "best" in table.find("tr", data_model="InternVL-Chat-V1.5").find("td", data_suite="ChartQA").classes
    assert "best" not in table.find("tr", data_model=ALPHA).find("td", data_suite="AI2D").classes
    headers = [th.attrs.get("data-key") for th in table.find("thead").find_all("th")]
    assert headers[:5] == ["name", "open", "params", "DocVQA", "ChartQA"]


@needs_chromium
def test_the_radar_has_one_polygon_per_plotted_model_and_the_bars_exist(dom, page):
    data = json.loads(data_block(page.read_text(encoding="utf-8")))
    radar = dom.find("svg", id="radar-chart")
    polygons = radar.find_all("polygon", cls="series")
    assert sorted(p.attrs["data-model"] for p in polygons) == sorted(data["radar"]["models"])
    assert {ALPHA, BETA, "GPT-4V", "Gemini Ultra 1.0", "Gemini Pro 1.5"} <= {p.attrs["data-model"] for p in polygons}
    legend = dom.find("ul", id="radar-legend").find_all("li")
    assert [li.attrs["data-model"] for li in legend] == data["radar"]["models"]
    bars = dom.find_all("svg", cls="bar")
    assert [svg.attrs["data-suite"] for svg in bars] == data["bars"]
    chartqa = dom.find("svg", cls="bar", data_suite="ChartQA")
    assert {rect.attrs["data-model"] for rect in chartqa.find_all("rect", cls="run")} == {ALPHA, BETA}


@needs_chromium
def test_the_sample_browser_lists_the_samples_and_payloads_stay_text(dom):
    rows = sample_rows(dom)
    assert [row.attrs["data-index"] for row in rows] == ["0", "1", "2", "3", "4", "5"]
    assert dom.find("span", id="sample-count").text() == "6 of 6 samples"
    assert rows[1].find("td", cls="prediction").text() == SCRIPT_PAYLOAD
    assert rows[2].find("td", cls="prediction").text() == IMG_PAYLOAD
    assert rows[3].find("td", cls="instruction").text() == BREAKOUT
    assert [row.classes & {"correct", "incorrect", "unscored"} for row in rows] == [
        {"correct"}, {"incorrect"}, {"incorrect"}, {"incorrect"}, {"unscored"}, {"correct"}]
    assert rows[0].find("td", cls="extracted").text() == "42answer: 42 | forty-two"
    images = [img.attrs["src"] for row in rows for img in row.find_all("img")]
    assert len(images) == 1 and images[0].startswith("data:image/png;base64,")
    assert dom.find("title").text() == TITLE
    assert not dom.find_all(id="pwned")
    assert BETA in [td.text().replace("this run", "") for td in dom.find("table", id="leaderboard-0").find_all("td")]


@needs_chromium
def test_the_scores_table_shows_untrusted_names_and_reasons_as_text(dom):
    table = dom.find("table", id="scores-table")
    rows = [[td.text() for td in tr.find_all("td")] for tr in table.find_all("tr", cls="own")]
    assert [row[:2] for row in rows if row[0] == BETA] == [[BETA, "DocVQA_TEST"], [BETA, "ChartQA_TEST"],
                                                             [BETA, "MMT-Bench_VAL"]]
    assert not table.find_all("i") and not table.find_all("script")
    mmvet = next(row for row in rows if row[1] == "MMVet")
    assert mmvet[3] == "not scored" and mmvet[7] == "not scored: needs a judge (GPT-4 grading)"


@needs_chromium
def test_a_url_fragment_filters_and_sorts_the_samples(page):
    dom = parse_dom(dump_dom(file_url(page, f"run={ALPHA}&suite=ChartQA_TEST&filter=PWNED&status=incorrect"
                                            "&sort=score-desc")))
    assert [row.attrs["data-index"] for row in sample_rows(dom)] == ["3", "1", "2"]
    assert dom.find("span", id="sample-count").text() == "3 of 6 samples"
    beta = parse_dom(dump_dom(file_url(page, "suite=DocVQA_TEST")))
    assert [row.attrs["data-index"] for row in sample_rows(beta)] == ["q-1"]
    assert beta.find("table", id="sample-table").attrs["data-run"] == BETA


PROBE = """<script>
window.addEventListener("load", function () {
  var button = document.querySelector('#leaderboard-0 th[data-key="ChartQA"] button');
  function column() {
    return Array.prototype.map.call(document.querySelectorAll('#leaderboard-0 tbody td[data-suite="ChartQA"]'),
      function (td) { return td.textContent; });
  }
  button.click();
  var once = column();
  button.click();
  var twice = column();
  setTimeout(function () {
    document.body.setAttribute("data-probe", JSON.stringify({pwned: window.pwned === undefined ? null : window.pwned,
      title: document.title, once: once, twice: twice}));
  }, 500);
});
</script>
</body>"""


@needs_chromium
def test_payloads_are_inert_even_without_the_csp_and_headers_sort(page, tmp_path):
    """A copy without the Content-Security-Policy, plus a probe: the page's own code must be safe."""
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text(encoding="utf-8"))
    assert "Content-Security-Policy" not in text
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("</body>", PROBE), encoding="utf-8")
    dom = parse_dom(dump_dom(file_url(probe)))
    result = json.loads(dom.find("body").attrs["data-probe"])
    assert result["pwned"] is None and result["title"] == TITLE
    assert not dom.find_all(id="pwned")
    numbers = [float(text.rstrip("\u2020")) for text in result["once"] if text != "\u2013"]
    assert numbers == sorted(numbers, reverse=True) and numbers[0] == 83.8
    assert result["once"][-1] == "\u2013"  # models without a value go last either way
    again = [float(text.rstrip("\u2020")) for text in result["twice"] if text != "\u2013"]
    assert again == sorted(numbers) and result["twice"][-1] == "\u2013"


@needs_chromium
def test_a_report_without_runs_or_samples_still_renders(tmp_path):
    page = write_html(build_report([], load_baselines()), tmp_path / "empty.html")
    dom = parse_dom(dump_dom(file_url(page)))
    body = dom.find("body")
    assert body.attrs.get("data-ready") == "1" and "data-error" not in body.attrs
    assert dom.find("table", id="leaderboard-0").find("tr", data_model="GPT-4V")
    assert "No samples" in dom.find(id="samples").text() and dom.find_all("polygon", cls="series")


@needs_chromium
def test_the_screenshot_is_not_blank(page, tmp_path):
    png = screenshot(file_url(page), tmp_path / "report.png")
    assert png.stat().st_size > 20_000
    with Image.open(png) as image:
        assert image.size == (1400, 2000)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 50
