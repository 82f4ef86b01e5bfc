"""The sample browser holds every sample and shows them a page at a time, from a compact data block."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evalkit.config import Environment
from evalkit.report.leaderboard import build_report
from evalkit.report.samples import collect_samples
from evalkit.report.write import write_report
from evalkit.run.folder import load_run
from tests.report import scores, write_run
from tests.report.browser import CHROMIUM, SKIP_REASON, Node, dump_dom, file_url, parse_dom

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
SUFFIX = "Answer the question using a single word or phrase."
PAGE = 100


def write_samples(run: Path, suite: str, count: int) -> None:
    """``count`` scored samples as a run writes them: details.jsonl and predictions.jsonl (even ones correct)."""
    details, predictions = [], []
    for i in range(count):
        question = f"What is the total amount on invoice number {i:05d} of the supplier's ledger? {SUFFIX}"
        answer = f"${i * 7 % 1000}.{i % 100:02d}"
        reply = answer if i % 2 == 0 else f"${i % 90}.00"
        details.append({"index": i, "prediction": reply, "extracted": reply, "score": 1.0 if i % 2 == 0 else 0.0,
                        "method": "rule", "answer": [answer]})
        predictions.append({"index": i, "instruction": question, "prompt": f"USER: <image>\n{question} ASSISTANT:",
                            "prediction": reply, "error": None})
    folder = run / suite
    (folder / "details.jsonl").write_text("".join(json.dumps(row) + "\n" for row in details), encoding="utf-8")
    (folder / "predictions.jsonl").write_text("".join(json.dumps(row) + "\n" for row in predictions),
                                              encoding="utf-8")


def big_run(root: Path, count: int) -> Path:
    run = write_run(root, "ledger-7b", {"DocVQA_VAL": scores("DocVQA_VAL", "anls", 50.0, n=count)})
    write_samples(run, "DocVQA_VAL", count)
    return run


def nowhere(tmp_path: Path) -> Environment:
    return Environment(data_root=tmp_path / "LMUData", cache_dir=tmp_path / "cache", hub_cache_dir=None, offline=True)


@pytest.fixture(scope="module")
def page_of_450(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("paging")
    return write_report([big_run(root / "run", 450)], root / "board", environment=nowhere(root)).files[2]


def shown_indices(dom: Node) -> list[int]:
    return [int(row.attrs["data-index"]) for row in dom.find("table", id="sample-table").find_all("tr", cls="sample")]


def test_every_sample_is_collected_not_only_the_first_ones(tmp_path):
    run = load_run(big_run(tmp_path / "run", 450))
    collected = collect_samples(build_report([run]), [run], nowhere(tmp_path))
    rows = collected.rows[("ledger-7b", "DocVQA_VAL")]
    assert [row["index"] for row in rows] == list(range(450))
    assert rows[449]["instruction"].startswith("What is the total amount on invoice number 00449 ")


@needs_chromium
def test_the_first_page_holds_100_rows_and_says_where_it_is(page_of_450):
    dom = parse_dom(dump_dom(file_url(page_of_450)))
    assert shown_indices(dom) == list(range(PAGE))
    assert dom.find(id="sample-count").text() == "450 of 450 samples"
    assert dom.find(id="sample-range").text() == "showing 1\u2013100"
    assert dom.find(id="sample-pages").text() == "of 5"
    assert "disabled" in dom.find(id="sample-previous").attrs and "disabled" not in dom.find(id="sample-next").attrs


@needs_chromium
def test_the_address_picks_the_page_after_filtering_and_sorting(page_of_450):
    last = parse_dom(dump_dom(file_url(page_of_450, "page=5")))
    assert shown_indices(last) == list(range(400, 450))
    assert last.find(id="sample-range").text() == "showing 401\u2013450"
    assert "disabled" in last.find(id="sample-next").attrs
    correct = parse_dom(dump_dom(file_url(page_of_450, "status=correct&page=3")))
    assert shown_indices(correct) == list(range(400, 450, 2))
    assert correct.find(id="sample-count").text() == "225 of 450 samples"
    worst_first = parse_dom(dump_dom(file_url(page_of_450, "sort=score-asc&page=3")))
    assert shown_indices(worst_first) == list(range(1, 450, 2))[200:] + list(range(0, 450, 2))[:75]
    beyond = parse_dom(dump_dom(file_url(page_of_450, "filter=invoice number 0044&page=9")))
    assert shown_indices(beyond) == list(range(440, 450))  # page 9 of 1 shows the last page


PROBE = """<script>
window.addEventListener("load", function () {
  var next = document.getElementById("sample-next");
  next.click();
  next.click();
  var rows = Array.prototype.map.call(document.querySelectorAll("#sample-table tr.sample"),
    function (tr) { return Number(tr.getAttribute("data-index")); });
  document.getElementById("sample-previous").click();
  var back = document.querySelector("#sample-table tr.sample").getAttribute("data-index");
  document.body.setAttribute("data-probe", JSON.stringify({rows: rows, hash: location.hash, back: back,
    page: document.getElementById("sample-page").value}));
});
</script>
</body>"""


@needs_chromium
def test_next_and_previous_turn_the_pages_and_keep_the_page_in_the_address(page_of_450, tmp_path):
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page_of_450.read_text(encoding="utf-8"))
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("</body>", PROBE), encoding="utf-8")
    result = json.loads(parse_dom(dump_dom(file_url(probe))).find("body").attrs["data-probe"])
    assert result["rows"] == list(range(200, 300))
    assert result["back"] == "100" and result["page"] == "2"
    assert result["hash"] == "#run=ledger-7b&suite=DocVQA_VAL&page=2"


@needs_chromium
def test_a_10000_sample_suite_makes_a_page_of_a_few_megabytes_that_pages_through_all(tmp_path):
    page = write_report([big_run(tmp_path / "run", 10_000)], tmp_path / "board", environment=nowhere(tmp_path)).files[2]
    block = re.search(r'id="report-data">(.*?)</script>', page.read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None
    data = json.loads(block.group(1))
    assert data["samples"][0]["count"] == 10_000 and len(data["samples"][0]["index"]) == 10_000
    texts = sum(len(text.encode("utf-8")) for text in data["strings"])
    assert len(data["strings"]) < 12_000  # 10,000 questions, then replies, extractions and answers repeat
    # measured: 1.74 MB = 1.26 MB of distinct texts + 37 bytes a sample of references + 114 kB of page and tables
    assert page.stat().st_size - texts < 150_000 + 40 * 10_000
    dom = parse_dom(dump_dom(file_url(page, "page=100")))
    assert dom.find("body").attrs.get("data-ready") == "1" and "data-error" not in dom.find("body").attrs
    assert shown_indices(dom) == list(range(9_900, 10_000))
    assert dom.find(id="sample-pages").text() == "of 100"
