"""Hub sources, on a local folder laid out like a hub dataset repo (configs, splits, parquet)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.catalog.spec import ColumnMap, HubSource, RowFilter
from evalkit.data.hub_dataset import HubImage, load_hub
from evalkit.errors import DataError

from .fixtures import BLUE, GREEN, RED, YELLOW, image_pixels, pixels, write_hub_folder

COLUMNS = ColumnMap(
    index="question_id",
    answer="answers",
    answer_format="list",
    options_list="options",
    metadata=("category",),
)


@pytest.fixture(scope="module")
def hub_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hub") / "lmms-lab-TestSet"
    write_hub_folder(root)
    return root


@pytest.fixture()
def cache(tmp_path: Path) -> Path:
    return tmp_path / "hf-cache"


def test_default_config_split_with_filter(hub_repo: Path, cache: Path) -> None:
    source = HubSource(
        repo=str(hub_repo), split="test", columns=COLUMNS, filter=RowFilter("data_type", "image")
    )
    data = load_hub(source, suite="T", cache_dir=cache)
    assert data.location == f"{hub_repo}/test"
    assert data.revision == "main"
    first, second = data.samples
    assert (first.index, second.index) == (101, 103)
    assert first.question == "Colour?"
    assert first.answers == ("red", "crimson")
    assert first.options == (("A", "red"), ("B", "green"))
    assert second.options == (("A", "x"), ("B", "y"), ("C", "z"))
    assert dict(first.metadata) == {"category": "colour"}
    assert all(isinstance(ref, HubImage) for ref in first.images)
    assert image_pixels(first.images[0].load()) == pixels(RED)
    assert image_pixels(second.images[0].load()) == pixels(BLUE)


def test_without_filter_keeps_all_rows_and_string_index(hub_repo: Path, cache: Path) -> None:
    data = load_hub(HubSource(repo=str(hub_repo), split="test", columns=COLUMNS), suite="T", cache_dir=cache)
    assert [s.index for s in data.samples] == [101, "q-102", 103]
    assert data.samples[1].options == ()
    assert image_pixels(data.samples[1].images[0].load()) == pixels(GREEN)


def test_second_split_of_default_config(hub_repo: Path, cache: Path) -> None:
    data = load_hub(HubSource(repo=str(hub_repo), split="dev", columns=COLUMNS), suite="T", cache_dir=cache)
    assert [s.index for s in data.samples] == [101]


def test_named_config_with_image_lists(hub_repo: Path, cache: Path) -> None:
    columns = ColumnMap(index="id", answer=None, images=("images",))
    source = HubSource(repo=str(hub_repo), config="extra", split="validation", columns=columns)
    data = load_hub(source, suite="T", cache_dir=cache, offline=True)
    assert data.location == f"{hub_repo}:extra/validation"
    (sample,) = data.samples
    assert sample.index == 7 and sample.question == "Two pictures" and sample.answers == ()
    assert [image_pixels(ref.load()) for ref in sample.images] == [pixels(BLUE), pixels(YELLOW)]


def test_fallback_repo_is_used(hub_repo: Path, cache: Path, tmp_path: Path) -> None:
    missing = tmp_path / "lmms-lab" / "gone"
    source = HubSource(repo=str(missing), fallback_repos=(str(hub_repo),), split="dev", columns=COLUMNS)
    data = load_hub(source, suite="T", cache_dir=cache, offline=True)
    assert data.location == f"{hub_repo}/dev"
    assert len(data.samples) == 1


def test_no_repo_works_lists_every_name(tmp_path: Path, cache: Path) -> None:
    first, second = tmp_path / "a" / "one", tmp_path / "b" / "two"
    source = HubSource(repo=str(first), fallback_repos=(str(second),), split="test", columns=COLUMNS)
    with pytest.raises(DataError) as caught:
        load_hub(source, suite="T", cache_dir=cache, offline=True)
    assert str(first) in str(caught.value) and str(second) in str(caught.value)


def test_unknown_split_and_config(hub_repo: Path, cache: Path) -> None:
    with pytest.raises(DataError, match=r"no split 'train' \(available: test, dev\)"):
        load_hub(HubSource(repo=str(hub_repo), split="train", columns=COLUMNS), suite="T", cache_dir=cache)
    with pytest.raises(DataError, match="nope"):
        load_hub(
            HubSource(repo=str(hub_repo), config="nope", split="test", columns=COLUMNS),
            suite="T",
            cache_dir=cache,
        )


def test_missing_column(hub_repo: Path, cache: Path) -> None:
    columns = ColumnMap(index="question_id", answer="answers", metadata=("l2-category",),
                        needed=(("l2-category", "metric 'hallusion' groups fAcc and qAcc by it"),))
    with pytest.raises(DataError) as caught:
        load_hub(HubSource(repo=str(hub_repo), split="test", columns=columns), suite="MMB", cache_dir=cache)
    assert str(caught.value) == (f"{hub_repo}/test: missing column 'l2-category' "
                                 "(needed by MMB: metric 'hallusion' groups fAcc and qAcc by it)")


def test_a_metadata_column_no_metric_needs_may_be_absent(hub_repo: Path, cache: Path) -> None:
    columns = ColumnMap(index="question_id", answer="answers", metadata=("l2-category",))
    data = load_hub(HubSource(repo=str(hub_repo), split="test", columns=columns), suite="MMB", cache_dir=cache)
    assert data.samples and all("l2-category" not in sample.metadata for sample in data.samples)


def test_filter_on_missing_column(hub_repo: Path, cache: Path) -> None:
    source = HubSource(repo=str(hub_repo), split="test", columns=COLUMNS, filter=RowFilter("kind", "image"))
    with pytest.raises(DataError, match="missing column 'kind'"):
        load_hub(source, suite="T", cache_dir=cache)


def test_rename_maps_hub_names_and_replaces_clashing_columns(hub_repo: Path, cache: Path) -> None:
    columns = ColumnMap(
        index="question_id", answer="answers", answer_format="list", metadata=("split", "kind")
    )
    source = HubSource(
        repo=str(hub_repo),
        split="test",
        columns=columns,
        rename={"category": "split", "data_type": "kind", "question": "question"},
        filter=RowFilter("data_type", "video"),
    )
    (sample,) = load_hub(source, suite="T", cache_dir=cache).samples
    assert sample.index == "q-102"
    assert dict(sample.metadata) == {"split": "motion", "kind": "video"}
    clash = HubSource(
        repo=str(hub_repo),
        split="dev",
        columns=ColumnMap(index="question_id", answer="question"),
        rename={"category": "question"},
    )
    (only,) = load_hub(clash, suite="T", cache_dir=cache).samples
    assert only.question == "colour" and only.answers == ("colour",)


def test_real_chartqa_card_on_a_hub_layout_folder_uses_row_numbers_and_renames(tmp_path: Path, cache: Path) -> None:
    """The ChartQA card's hub source (no id column; ``type`` holds the split) on a folder laid out like the repo."""
    import dataclasses

    import datasets

    from evalkit.catalog.cards import load_catalog
    from evalkit.data.sources import load_samples


    repo = tmp_path / "ChartQA"
    (repo / "data").mkdir(parents=True)
    features = datasets.Features({"type": datasets.Value("string"), "question": datasets.Value("string"),
                                  "answer": datasets.Value("string"), "image": datasets.Image()})
    rows = {"type": ["human_test", "augmented_test"], "question": ["How many bars?", "Max value?"],
            "answer": ["3", "27"], "image": [{"bytes": RED, "path": None},
                                            {"bytes": BLUE, "path": None}]}
    datasets.Dataset.from_dict(rows, features=features).to_parquet(str(repo / "data" / "test-00000-of-00001.parquet"))
    spec = load_catalog().get("ChartQA_TEST")
    hub = dataclasses.replace(spec.sources["hub"], repo=str(repo), fallback_repos=())
    spec = dataclasses.replace(spec, sources={**spec.sources, "hub": hub})
    data = load_samples(spec, source="hub", data_root=tmp_path, hub_cache_dir=cache, offline=True)
    assert [(s.index, s.question, s.answers, s.metadata["split"]) for s in data.samples] == [
        (0, "How many bars?", ("3",), "human_test"), (1, "Max value?", ("27",), "augmented_test")]
    assert image_pixels(data.samples[1].images[0].load()) == pixels(BLUE)
    assert data.info.source == "hub"
