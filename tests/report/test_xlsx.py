"""The workbook, read back with openpyxl cell by cell."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest

from evalkit.report.baselines import load_baselines
from evalkit.report.leaderboard import build_report
from evalkit.report.safety import neutralise_formula
from evalkit.report.xlsx import BEST_FILL, RUN_FILL, sheet_name, write_xlsx
from evalkit.run.folder import load_run
from tests.report import alpha_suites, beta_suites, scores, write_run

EVIL = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def book(tmp_path):
    alpha = load_run(write_run(tmp_path / "alpha", "alpha-7b", alpha_suites()))
    beta = load_run(write_run(tmp_path / "beta", "beta-26b", beta_suites()))
    evil = load_run(write_run(tmp_path / "evil", EVIL, {"MME": scores(
        "MME", "mme", 10.0, breakdown={"subtasks": {"-cmd|' /C calc'!A0": {"score": 1.0}}})}))
    path = write_xlsx(build_report([alpha, beta, evil], load_baselines()), tmp_path / "out" / "report.xlsx")
    return openpyxl.load_workbook(path), path


def header(sheet) -> list[str]:
    return [cell.value for cell in sheet[1]]


def locate(sheet, label: str, column: str):
    """The Summary cell of the row whose model is ``label`` in the column headed ``column``."""
    col = header(sheet).index(column) + 1
    row = next(cell.row for cell in sheet["A"] if cell.value == label)
    return sheet.cell(row=row, column=col)


def test_sheets(book):
    workbook, _ = book
    assert workbook.sheetnames == ["Summary", "Gaps", "DocVQA_TEST", "DocVQA_VAL", "ChartQA_TEST", "OCRBench", "MME",
                                   "AI2D_TEST", "MMVet", "MMT-Bench_ALL", "MMT-Bench_VAL", "Not compared"]


def test_summary_header_and_layout(book):
    sheet = book[0]["Summary"]
    labels = header(sheet)
    assert labels[:8] == ["Model", "Kind", "#Param", "DocVQA", "ChartQA", "InfoVQA", "TextVQA", "OCRBench"]
    assert labels[-1] == "RefCOCOg test" and "MMT-Bench*" in labels
    assert sheet.freeze_panes == "B2"
    assert [sheet.cell(row=r, column=1).value for r in range(2, 6)] == ["alpha-7b", "beta-26b", "'" + EVIL, "GPT-4V"]
    assert [sheet.cell(row=r, column=2).value for r in range(2, 6)] == ["run", "run", "run", "baseline"]
    assert sheet["A2"].fill.fgColor.rgb == RUN_FILL.fgColor.rgb and sheet["A2"].font.b
    assert sheet["A5"].fill.fgColor.rgb != RUN_FILL.fgColor.rgb
    assert locate(sheet, "InternVL-Chat-V1.5", "#Param").value == "26B"


def test_summary_values_and_number_formats(book):
    sheet = book[0]["Summary"]
    assert locate(sheet, "GPT-4V", "DocVQA").value == 88.4
    assert locate(sheet, "GPT-4V", "DocVQA").number_format == "0.0"
    ocr = locate(sheet, "alpha-7b", "OCRBench")
    assert (ocr.value, ocr.number_format) == (700, "0")
    assert locate(sheet, "GPT-4V", "OCRBench").number_format == "0"
    mme = locate(sheet, "alpha-7b", "MME")
    assert (mme.value, mme.number_format) == (2000.5, "0.0")
    assert locate(sheet, "alpha-7b", "ChartQA").value == 80.0
    assert locate(sheet, "alpha-7b", "MMT-Bench*").value == 57.5
    assert locate(sheet, "GPT-4V", "ConvBench R1").number_format == "0.00"
    assert locate(sheet, "alpha-7b", "DocVQA").value is None
    assert locate(sheet, "beta-26b", "DocVQA").value == 95.0
    assert locate(sheet, "alpha-7b", "MMVet").value is None


def test_best_cells_are_filled_and_bold(book):
    sheet = book[0]["Summary"]
    best = BEST_FILL.fgColor.rgb
    for label, column in [("beta-26b", "DocVQA"), ("beta-26b", "ChartQA"), ("InternVL-Chat-V1.5", "ChartQA"),
                          ("Claude-3 Sonnet", "AI2D"), ("InternVL-Chat-V1.2", "MMT-Bench")]:
        cell = locate(sheet, label, column)
        assert cell.fill.fgColor.rgb == best and cell.font.b, (label, column)
    for label, column in [("GPT-4V", "DocVQA"), ("alpha-7b", "ChartQA"), ("alpha-7b", "AI2D"),
                          ("alpha-7b", "OCRBench")]:
        cell = locate(sheet, label, column)
        assert cell.fill.fgColor.rgb != best and not cell.font.b, (label, column)
    filled = [cell.coordinate for row in sheet.iter_rows(min_row=2, min_col=4) for cell in row
              if cell.fill.fgColor.rgb == best]
    assert len(filled) >= len(header(sheet)) - 3


def test_a_flagged_value_is_shown_with_its_note(book):
    cell = locate(book[0]["Summary"], "alpha-7b", "AI2D")
    assert cell.value == 99.0 and cell.font.i
    assert "vlmevalkit protocol" in cell.comment.text


def test_formula_text_is_stored_as_text(book):
    workbook, path = book
    name = workbook["Summary"]["A4"]
    assert name.value == "'" + EVIL and name.data_type == "s"
    mme = workbook["MME"]
    texts = [cell.value for row in mme.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert "'" + EVIL in texts and "'-cmd|' /C calc'!A0" in texts
    with zipfile.ZipFile(path) as archive:
        sheets = [archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/")]
    assert all(b"<f>" not in data and b"<f " not in data for data in sheets)


def test_gaps_sheet(book):
    sheet = book[0]["Gaps"]
    assert header(sheet) == ["Run", "Column", "Run value", "Reference", "Reference value", "Gap"]
    rows = {(r[0], r[1], r[3]): (r[2], r[4], r[5]) for r in sheet.iter_rows(min_row=2, values_only=True)}
    run_value, reference, gap = rows[("beta-26b", "DocVQA", "GPT-4V")]
    assert (run_value, reference) == (95.0, 88.4) and gap == pytest.approx(6.6)
    assert sheet.cell(row=2, column=6).number_format == "+0.0;-0.0;0.0"


def test_suite_sheets_hold_the_breakdowns(book):
    sheet = book[0]["ChartQA_TEST"]
    rows = list(sheet.iter_rows(max_col=3, values_only=True))
    assert rows[0][0].startswith("ChartQA_TEST: ")
    assert ("Run", "alpha-7b", None) in rows and ("Score", 80, None) in rows and ("Run", "beta-26b", None) in rows
    start = rows.index(("splits", "value", None))
    assert rows[start + 1:start + 3] == [("test_human", 70, None), ("test_augmented", 90, None)]
    mmvet = list(book[0]["MMVet"].iter_rows(max_col=2, values_only=True))
    assert ("Not scored", "needs a judge (GPT-4 grading)") in mmvet and ("Score", None) in mmvet


def test_suite_sheets_give_the_errors_and_the_note_in_full(tmp_path):
    document = scores("DocVQA_VAL", "anls", 85.25, breakdown={"errors": 3})
    document["other_protocol"] = {"protocol": "vlmevalkit", "other_score": 84.126, "samples_scored_differently": 2}
    run = load_run(write_run(tmp_path / "run", "alpha-7b", {"DocVQA_VAL": document}))
    path = write_xlsx(build_report([run], load_baselines()), tmp_path / "report.xlsx")
    rows = list(openpyxl.load_workbook(path)["DocVQA_VAL"].iter_rows(max_col=2, values_only=True))
    assert ("n", 10) in rows and ("Errors", 3) in rows
    assert ("Note", "vlmevalkit protocol: 84.13 (2 samples scored differently)") in rows


def test_not_compared_sheet(book):
    sheet = book[0]["Not compared"]
    assert header(sheet) == ["Run", "Benchmark", "Value", "Reason"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert ("alpha-7b", "DocVQA_VAL", 85.25, "split val has no paper baseline (the paper reports test)") in rows
    assert ("alpha-7b", "MMVet", None, "not scored: needs a judge (GPT-4 grading)") in rows
    assert ("beta-26b", "MMT-Bench_VAL", 50, "split val has no paper baseline (the paper reports ALL)") in rows
    assert sheet.freeze_panes == "A2"


@pytest.mark.parametrize(("text", "expected"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("GPT-4V", "GPT-4V"), ("a=b", "a=b"), ("", ""), ("'quoted", "'quoted"),
])
def test_neutralise_formula(text, expected):
    assert neutralise_formula(text) == expected


def test_sheet_names_are_valid_and_unique():
    taken = {"summary"}
    assert sheet_name("Summary", taken) == "Summary (2)"
    assert sheet_name("a/b:c*d?[e]", taken) == "a_b_c_d__e_"
    long = "x" * 40
    assert sheet_name(long, taken) == "x" * 31 and sheet_name(long, taken) == "x" * 27 + " (2)"
