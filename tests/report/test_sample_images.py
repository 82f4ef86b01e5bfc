"""The sample browser's images: read again from wherever the run's data is on this machine, within a budget."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from evalkit.catalog.cards import Catalog, load_catalog
from evalkit.config import Environment, ModelConfig, ModelOptions, RunConfig
from evalkit.data.vlmevalkit_tsv import read_tsv
from evalkit.report import local_data
from evalkit.report import samples as samples_module
from evalkit.report.images import THUMBNAIL_PX, thumbnail
from evalkit.report.leaderboard import build_report
from evalkit.report.local_data import hub_repo_of
from evalkit.report.payload import build_payload
from evalkit.report.samples import CollectedSamples, collect_samples
from evalkit.report.write import write_report
from evalkit.run.folder import index_key, load_run
from evalkit.run.runner import Runner
from tests.report import group_items
from tests.report.browser import CHROMIUM, SKIP_REASON, dump_dom, file_url, parse_dom
from tests.report.conftest import TinyRun

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
HUB_COLOURS = ((220, 20, 60), (30, 144, 255), (50, 205, 50))
SCORED = {"DocVQA_VAL": 4, "MMBench_DEV_EN": 6}
"""details.jsonl rows of the tiny run (MMBench's circular copies of its 4 questions count on their own)."""


def collect(run_dirs: list[Path], environment: Environment, **options: Any) -> CollectedSamples:
    runs = [load_run(path) for path in run_dirs]
    return collect_samples(build_report(runs), runs, environment, **options)


def decoded(url: str) -> Image.Image:
    assert url.startswith("data:image/jpeg;base64,")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")


def copy_run(source: Path, target: Path, data: dict[str, Any] | None = None, suite: str = "DocVQA_VAL") -> Path:
    """A copy of a run folder whose manifest records ``data`` as ``suite``'s data (when given)."""
    shutil.copytree(source, target)
    if data is not None:
        manifest = json.loads((target / "manifest.json").read_text())
        manifest["benchmarks"][suite]["data"].update(data)
        (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def elsewhere(tmp_path: Path) -> Environment:
    return Environment(data_root=tmp_path / "empty-LMUData", cache_dir=tmp_path / "cache", hub_cache_dir=None,
                       offline=True)


# ----------------------------------------------------------------------------------------------- TSV
def test_every_sample_of_a_tsv_run_gets_the_thumbnail_of_its_own_image(tiny_run: TinyRun):
    collected = collect([tiny_run.run_dir], tiny_run.environment)
    assert collected.notes == {}
    catalog = load_catalog()
    for (label, suite), rows in collected.rows.items():
        spec = catalog.get(suite)
        tsv = tiny_run.data_root / spec.sources["tsv"].filename
        samples = {index_key(s.index): s for s in read_tsv(tsv, spec.sources["tsv"].columns, suite=suite).samples}
        assert label == "tiny-random" and len(rows) == SCORED[suite]
        for row in rows:
            expected = thumbnail(samples[index_key(row["index"])])
            assert expected is not None and row["image_png_base64"] == expected
            assert max(decoded(expected).size) <= THUMBNAIL_PX
        assert len({row["image_png_base64"] for row in rows}) > 1


def test_a_tsv_no_longer_at_its_recorded_path_is_found_under_lmudata(tiny_run: TinyRun, tmp_path: Path):
    moved = copy_run(tiny_run.run_dir, tmp_path / "run", {"location": "/gone/LMUData/DocVQA_VAL.tsv"})
    found = collect([moved], tiny_run.environment)
    assert all("image_png_base64" in row for row in found.rows[("tiny-random", "DocVQA_VAL")])
    missing = collect([moved], elsewhere(tmp_path))
    assert missing.notes[("tiny-random", "DocVQA_VAL")] == (
        f"no images: the data file DocVQA_VAL.tsv is neither at /gone/LMUData/DocVQA_VAL.tsv nor under $LMUData "
        f"({tmp_path / 'empty-LMUData'})")
    assert not any("image_png_base64" in row for row in missing.rows[("tiny-random", "DocVQA_VAL")])
    assert ("tiny-random", "MMBench_DEV_EN") not in missing.notes  # its TSV is still where the run read it


def test_a_tsv_that_changed_since_the_run_gives_no_images_and_says_why(tiny_run: TinyRun, tmp_path: Path):
    data_root = tmp_path / "LMUData"
    shutil.copytree(tiny_run.data_root, data_root)
    changed = data_root / "DocVQA_VAL.tsv"
    changed.write_text(changed.read_text(encoding="utf-8").replace("invoice", "receipt"), encoding="utf-8")
    run = copy_run(tiny_run.run_dir, tmp_path / "run", {"location": str(changed)})
    recorded = json.loads((run / "manifest.json").read_text())["benchmarks"]["DocVQA_VAL"]["data"]["checksum"]
    note = collect([run], dataclasses.replace(tiny_run.environment, data_root=data_root)).notes
    assert note[("tiny-random", "DocVQA_VAL")].startswith(f"no images: {changed} has changed since the run (md5 ")
    assert note[("tiny-random", "DocVQA_VAL")].endswith(f", the run read {recorded})")
    assert ("tiny-random", "MMBench_DEV_EN") not in note


def test_a_data_file_run_reads_its_file_even_relative_to_the_run_folder(tiny_run: TinyRun, tmp_path: Path):
    shutil.copy(tiny_run.data_root / "DocVQA_VAL.tsv", tmp_path / "docvqa.tsv")
    run = copy_run(tiny_run.run_dir, tmp_path / "run", {"source": "file", "location": "docvqa.tsv"})
    collected = collect([run], elsewhere(tmp_path))
    assert all(row["image_png_base64"].startswith("data:image/jpeg") for row in
               collected.rows[("tiny-random", "DocVQA_VAL")])


def test_a_run_whose_manifest_names_no_data_says_so(tiny_run: TinyRun, tmp_path: Path):
    run = copy_run(tiny_run.run_dir, tmp_path / "run")
    manifest = json.loads((run / "manifest.json").read_text())
    del manifest["benchmarks"]["DocVQA_VAL"]["data"]
    (run / "manifest.json").write_text(json.dumps(manifest))
    notes = collect([run], tiny_run.environment).notes
    assert notes == {("tiny-random", "DocVQA_VAL"): "no images: the run's manifest does not say where its data "
                                                    "came from"}


# ----------------------------------------------------------------------------------------------- hub
def write_chartqa_hub_folder(repo: Path) -> None:
    """ChartQA laid out like its hub repo (no id column, ``type`` holds the split), three charts."""
    import datasets

    (repo / "data").mkdir(parents=True)
    images = []
    for colour in HUB_COLOURS:
        out = io.BytesIO()
        Image.new("RGB", (640, 400), colour).save(out, format="PNG")
        images.append({"bytes": out.getvalue(), "path": None})
    features = datasets.Features({"type": datasets.Value("string"), "question": datasets.Value("string"),
                                  "answer": datasets.Value("string"), "image": datasets.Image()})
    rows = {"type": ["human_test", "augmented_test", "human_test"], "question": ["How many bars?", "Max?", "Min?"],
            "answer": ["3", "27", "4"], "image": images}
    datasets.Dataset.from_dict(rows, features=features).to_parquet(str(repo / "data" / "test-00000-of-00001.parquet"))


@pytest.fixture(scope="module")
def hub_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Environment]:
    """tiny-random on ChartQA read through the card's hub source, from a folder laid out like the hub repo."""
    root = tmp_path_factory.mktemp("hub-run")
    repo = root / "ChartQA"
    write_chartqa_hub_folder(repo)
    spec = load_catalog().get("ChartQA_TEST")
    local = dataclasses.replace(spec.sources["hub"], repo=str(repo), fallback_repos=())
    catalog = Catalog({spec.name: dataclasses.replace(spec, sources={**spec.sources, "hub": local})})
    environment = Environment(data_root=root / "LMUData", cache_dir=root / "cache", hub_cache_dir=root / "hf-cache",
                              offline=True)
    config = RunConfig(model=ModelConfig("tiny-random", ModelOptions(device="cpu", dtype="float32")),
                       benchmarks=("ChartQA_TEST",), output=root / "run", environment=environment, source="hub",
                       max_new_tokens=4, progress=False)
    Runner(config, catalog=catalog).run()
    return root / "run", environment


def test_a_hub_run_gets_its_images_from_the_dataset_it_read(hub_run: tuple[Path, Environment]):
    run_dir, environment = hub_run
    assert json.loads((run_dir / "manifest.json").read_text())["benchmarks"]["ChartQA_TEST"]["data"]["source"] == "hub"
    collected = collect([run_dir], environment)
    rows = collected.rows[("tiny-random", "ChartQA_TEST")]
    assert collected.notes == {} and [row["index"] for row in rows] == [0, 1, 2]
    for row, colour in zip(rows, HUB_COLOURS, strict=True):
        image = decoded(row["image_png_base64"])
        assert image.size == (THUMBNAIL_PX, 100)  # 640x400 shrunk to fit 160 a side
        assert all(abs(a - b) <= 8 for a, b in zip(image.getpixel((80, 50)), colour, strict=True))


def test_a_hub_dataset_not_in_the_local_cache_gives_no_images_and_names_the_cache(hub_run, tmp_path: Path):
    run_dir, environment = hub_run
    run = copy_run(run_dir, tmp_path / "run", {"location": "lmms-lab-encoder/ChartQA/test"}, suite="ChartQA_TEST")
    notes = collect([run], environment).notes
    assert notes == {("tiny-random", "ChartQA_TEST"): "no images: the hub dataset lmms-lab-encoder/ChartQA/test is "
                                                      f"not in the local cache ({environment.hub_cache_dir})"}


@pytest.mark.parametrize(("suite", "location", "repo"), [
    ("DocVQA_VAL", "lmms-lab/DocVQA:DocVQA/validation", "lmms-lab/DocVQA"),
    ("ChartQA_TEST", "lmms-lab/ChartQA/test", "lmms-lab/ChartQA"),
    ("ChartQA_TEST", "/data/mirror/ChartQA/test", "/data/mirror/ChartQA"),
])
def test_the_hub_repo_is_read_back_from_the_recorded_location(suite: str, location: str, repo: str):
    source = load_catalog().get(suite).sources["hub"]
    assert hub_repo_of(location, source) == repo


# -------------------------------------------------------------------------------------------- budget
def test_the_budget_is_shared_round_robin_and_the_left_out_are_counted(tiny_run: TinyRun):
    full = collect([tiny_run.run_dir], tiny_run.environment)
    docvqa = full.rows[("tiny-random", "DocVQA_VAL")]
    mmbench = full.rows[("tiny-random", "MMBench_DEV_EN")]
    first_three = [docvqa[0], mmbench[0], docvqa[1]]  # round-robin order
    budget = sum(len(row["image_png_base64"]) for row in first_three)
    limited = collect([tiny_run.run_dir], tiny_run.environment, image_budget=budget)
    shown = {key: ["image_png_base64" in row for row in rows] for key, rows in limited.rows.items()}
    assert shown == {("tiny-random", "DocVQA_VAL"): [True, True, False, False],
                     ("tiny-random", "MMBench_DEV_EN"): [True, False, False, False, False, False]}
    size = f"{budget / 1e3:.0f} kB"
    assert limited.notes == {
        ("tiny-random", "DocVQA_VAL"): f"Images of 2 of these 4 samples were left out to keep this page's images "
                                       f"under {size}; the first 2 in dataset order have theirs.",
        ("tiny-random", "MMBench_DEV_EN"): f"Images of 5 of these 6 samples were left out to keep this page's "
                                           f"images under {size}; the first 1 in dataset order have theirs."}


@pytest.mark.parametrize("batch", [1, 64])
def test_a_second_run_on_the_same_data_gets_every_thumbnail_the_first_got_even_past_the_budget(
        tiny_run: TinyRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int):
    monkeypatch.setattr(samples_module, "BATCH", batch)
    full = collect([tiny_run.run_dir], tiny_run.environment).rows
    docvqa, mmbench = full[("tiny-random", "DocVQA_VAL")], full[("tiny-random", "MMBench_DEV_EN")]
    budget = sum(len(row["image_png_base64"]) for row in (docvqa[0], mmbench[0], docvqa[1]))
    second = copy_run(tiny_run.run_dir, tmp_path / "second")
    limited = collect([tiny_run.run_dir, second], tiny_run.environment, image_budget=budget, workers=2)
    shown = {key: ["image_png_base64" in row for row in rows] for key, rows in limited.rows.items()}
    for run in ("tiny-random (run)", "tiny-random (second)"):
        assert shown[(run, "DocVQA_VAL")] == [True, True, False, False]
        assert shown[(run, "MMBench_DEV_EN")] == [True, False, False, False, False, False]


def test_two_runs_on_the_same_data_share_their_thumbnails(tiny_run: TinyRun, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    second = copy_run(tiny_run.run_dir, tmp_path / "second")
    runs = [load_run(tiny_run.run_dir), load_run(second)]
    report = build_report(runs)
    reads: list[str] = []
    monkeypatch.setattr(local_data, "read_tsv",
                        lambda path, *args, **options: reads.append(path.name) or read_tsv(path, *args, **options))
    made: list[object] = []
    monkeypatch.setattr(samples_module, "thumbnail", lambda sample: made.append(sample.index) or thumbnail(sample))
    collected = collect_samples(report, runs, tiny_run.environment)
    assert sorted(reads) == ["DocVQA_VAL.tsv", "MMBench_DEV_EN.tsv"]  # each TSV read once for both runs
    assert len(made) == sum(SCORED.values())  # each sample's thumbnail made once for both runs
    data = build_payload(report, samples=collected.rows, sample_notes=collected.notes)
    assert [group["run"] for group in data["samples"]] == ["tiny-random (run)"] * 2 + ["tiny-random (second)"] * 2
    thumbnails = {row["image_png_base64"] for rows in collected.rows.values() for row in rows}
    assert len(thumbnails) < sum(SCORED.values())  # the demo sets reuse pictures: fewer thumbnails than samples
    assert sorted(data["images"]) == sorted(thumbnails)  # each stored once for both runs
    for first, again in ((0, 2), (1, 3)):
        assert data["samples"][first]["image"] == data["samples"][again]["image"]
        rows = collected.rows[("tiny-random (second)", data["samples"][again]["suite"])]
        assert [item["image"] for item in group_items(data, data["samples"][again])] == [
            row["image_png_base64"] for row in rows]


@needs_chromium
def test_the_page_shows_each_samples_thumbnail_and_the_note_for_left_out_images(tiny_run: TinyRun, tmp_path: Path):
    page = write_report([tiny_run.run_dir], tmp_path / "board", environment=tiny_run.environment).files[2]
    dom = parse_dom(dump_dom(file_url(page, "suite=MMBench_DEV_EN")))
    rows = dom.find("table", id="sample-table").find_all("tr", cls="sample")
    images = [row.find("td", cls="image").find("img").attrs["src"] for row in rows]
    assert len(rows) == 6 and all(src.startswith("data:image/jpeg;base64,") for src in images)
    assert not dom.find_all(id="sample-note")
    run = copy_run(tiny_run.run_dir, tmp_path / "run", {"location": "/gone/DocVQA_VAL.tsv"})
    page = write_report([run], tmp_path / "board2", environment=elsewhere(tmp_path)).files[2]
    dom = parse_dom(dump_dom(file_url(page, "suite=DocVQA_VAL")))
    assert dom.find(id="sample-note").text().startswith("no images: the data file DocVQA_VAL.tsv is neither at")
    assert not dom.find("table", id="sample-table").find_all("img")
