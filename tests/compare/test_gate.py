"""The regression gate end to end on constructed run directories (manifest.json, scores.json, details.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.compare.gate import MISMATCH, NOT_SCORED, compare_runs
from evalkit.compare.output import render_markdown, to_json, write_outputs
from evalkit.compare.stats import IMPROVED, NO_CHANGE, REGRESSED, TEST_MCNEMAR
from evalkit.errors import DataError, EvalkitError
from evalkit.run.folder import DIGEST, details_digest

N = 1000
BASE_CORRECT = 700  # 70% accuracy


def suite_config(name: str) -> dict[str, Any]:
    """A manifest entry as ``evalkit run`` writes one (the fields the gate checks, plus some it ignores)."""
    return {
        "title": name, "card_version": 1, "protocol": "paper", "prompt_version": f"{name}/v1/paper/short",
        "generation": {"max_new_tokens": 24, "do_sample": False, "num_beams": 1, "temperature": 0.0, "seed": 0},
        "max_tiles": 6, "data": {"source": "file", "location": f"/data/{name}.tsv", "checksum": "abc123"},
        "data_checksum": "abc123", "started": "2026-01-01T00:00:00+00:00",
    }


def write_run(root: Path, suites: dict[str, list[float | None]], *, configs: dict[str, dict[str, Any]] | None = None,
              hashes: dict[str, dict[int, str]] | None = None, headline: dict[str, float | None] | None = None,
              metric: str = "accuracy") -> Path:
    """Write a run directory: ``suites`` maps a suite name to its per-sample scores (index = position).

    ``configs`` overrides manifest entries, ``hashes`` overrides sample hashes by index, ``headline`` overrides
    the headline score (default: the mean of the non-null per-sample scores times 100).
    """
    root.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"evalkit_version": "0.1.0", "model_spec": "tiny-random", "benchmarks": {}}
    for name, scores in suites.items():
        manifest["benchmarks"][name] = (configs or {}).get(name, suite_config(name))
        folder = root / name
        folder.mkdir()
        own_hashes = (hashes or {}).get(name, {})
        with (folder / "details.jsonl").open("w", encoding="utf-8") as out:
            for index, score in enumerate(scores):
                record = {"index": index, "prediction": "x", "extracted": "x", "score": score, "method": "rule",
                          "sample_hash": own_hashes.get(index, f"h{index:05d}")}
                out.write(json.dumps(record) + "\n")
        scored = [s for s in scores if s is not None]
        value = (headline or {}).get(name, 100.0 * sum(scored) / len(scored) if scored else None)
        document = {"benchmark": name, "metric": metric, "score": value, "n": len(scores), "breakdown": {},
                    "higher_is_better": True, "reason": None if value is not None else "needs a judge",
                    "protocol": "paper", "judge": {"spec": "exact_matching"}}
        with (folder / "details.jsonl").open(encoding="utf-8") as written:
            document[DIGEST] = details_digest(json.loads(line) for line in written)  # as evalkit records it
        (folder / "scores.json").write_text(json.dumps(document), encoding="utf-8")
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


def base_scores() -> list[float | None]:
    return [1.0] * BASE_CORRECT + [0.0] * (N - BASE_CORRECT)


def flipped(scores: list[float | None], down: int, up: int) -> list[float | None]:
    """Flip ``down`` correct samples to wrong (from the front) and ``up`` wrong samples to right (from the back)."""
    out = list(scores)
    for i in range(down):
        out[i] = 0.0
    for i in range(up):
        out[N - 1 - i] = 1.0
    return out


def test_identical_runs_pass(tmp_path):
    suites = {"AI2D_TEST": base_scores(), "RealWorldQA": base_scores()[::-1]}
    base = write_run(tmp_path / "base", suites)
    candidate = write_run(tmp_path / "cand", suites)
    result = compare_runs(base, candidate, bootstrap=2000)
    assert result.exit_code == 0
    assert [s.verdict for s in result.suites] == [NO_CHANGE, NO_CHANGE]
    for suite in result.suites:
        assert suite.delta == 0.0
        assert suite.stats is not None and suite.stats.mean_diff == 0.0 and suite.stats.p_value == 1.0
        assert suite.pairing is not None and suite.pairing.paired == N and suite.pairing.unpaired == 0
        assert suite.headline_is_sample_mean is True
        assert suite.mismatches == []


def test_planted_five_point_regression_is_caught(tmp_path):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores(), "RealWorldQA": base_scores()})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": flipped(base_scores(), down=60, up=10),
                                              "RealWorldQA": base_scores()})
    result = compare_runs(base, candidate)
    assert result.exit_code == 1
    assert result.regressed == ["AI2D_TEST"]
    regressed = result.suites[0]
    assert regressed.verdict == REGRESSED
    assert regressed.delta == pytest.approx(-5.0)
    stats = regressed.stats
    assert stats is not None and stats.test == TEST_MCNEMAR
    assert (stats.discordant_worse, stats.discordant_better) == (60, 10)
    assert stats.p_value < 1e-8
    assert stats.ci_low < -5.0 < stats.ci_high < 0.0
    assert result.suites[1].verdict == NO_CHANGE


def test_planted_improvement_passes_and_is_reported(tmp_path):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores()})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": flipped(base_scores(), down=5, up=55)})
    result = compare_runs(base, candidate, bootstrap=2000)
    assert result.exit_code == 0
    assert result.improved == ["AI2D_TEST"]
    assert result.suites[0].verdict == IMPROVED


@pytest.mark.parametrize(("down", "up"), [(3, 3), (4, 2), (2, 5), (8, 3)])
def test_noise_level_differences_pass(tmp_path, down, up):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores()})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": flipped(base_scores(), down=down, up=up)})
    result = compare_runs(base, candidate, bootstrap=2000)
    assert result.exit_code == 0
    suite = result.suites[0]
    assert suite.verdict == NO_CHANGE
    assert suite.delta == pytest.approx((up - down) / 10)
    assert suite.stats is not None and suite.stats.p_value > 0.05


def test_significant_but_small_drop_passes(tmp_path):
    # 9 lost, 0 gained: McNemar p = 2/512 < 0.05, but the headline drops only 0.9 points (min_delta 1.0)
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores()})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": flipped(base_scores(), down=9, up=0)})
    result = compare_runs(base, candidate, bootstrap=2000)
    suite = result.suites[0]
    assert suite.stats is not None and suite.stats.p_value == pytest.approx(2 / 512)
    assert suite.verdict == NO_CHANGE
    assert compare_runs(base, candidate, bootstrap=2000, min_delta=0.5).exit_code == 1


def test_fractional_scores_regression_uses_sign_flip(tmp_path):
    base_anls = [0.9 if i % 3 else 0.5 for i in range(N)]
    cand_anls = [s - 0.1 if i % 2 == 0 else s for i, s in enumerate(base_anls)]  # -5 points on average
    base = write_run(tmp_path / "base", {"DocVQA_VAL": base_anls}, metric="anls")
    candidate = write_run(tmp_path / "cand", {"DocVQA_VAL": cand_anls}, metric="anls")
    result = compare_runs(base, candidate, bootstrap=2000)
    suite = result.suites[0]
    assert suite.verdict == REGRESSED
    assert suite.stats is not None and suite.stats.test.startswith("sign-flip")
    assert suite.stats.mean_diff == pytest.approx(-5.0)
    assert suite.stats.p_value == pytest.approx(1 / 2001)


def test_prompt_version_mismatch_is_reported_and_not_compared(tmp_path):
    changed = suite_config("AI2D_TEST")
    changed["prompt_version"] = "AI2D_TEST/v2/paper/short"
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores(), "RealWorldQA": base_scores()})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": flipped(base_scores(), 100, 0),
                                              "RealWorldQA": base_scores()},
                          configs={"AI2D_TEST": changed})
    result = compare_runs(base, candidate, bootstrap=1000)
    suite = result.suites[0]
    assert suite.verdict == MISMATCH
    assert suite.stats is None and suite.pairing is None
    assert [(m.field, m.base, m.candidate) for m in suite.mismatches] == [
        ("prompt_version", "AI2D_TEST/v1/paper/short", "AI2D_TEST/v2/paper/short")]
    assert result.mismatched == ["AI2D_TEST"]
    assert result.exit_code == 1  # not comparable: the gate cannot vouch for the suite
    assert result.not_comparable == [("AI2D_TEST", "configuration differs: prompt_version")]
    assert "prompt_version" in render_markdown(result)
    assert compare_runs(base, candidate, bootstrap=1000, allow_missing=True).exit_code == 0  # a 10-point drop,
    # but skipped: --allow-missing lets the verdict rest on RealWorldQA


@pytest.mark.parametrize(("key", "value", "mismatch"), [
    ("max_tiles", 12, True),
    ("data_checksum", "zzz999", True),
    ("protocol", "vlmevalkit", True),
    ("generation", {"max_new_tokens": 64, "do_sample": False, "num_beams": 1, "temperature": 0.0, "seed": 0}, True),
    # greedy decoding: the seed changes nothing, so a different seed is not a mismatch
    ("generation", {"max_new_tokens": 24, "do_sample": False, "num_beams": 1, "temperature": 0.0, "seed": 7}, False),
    ("started", "2030-01-01T00:00:00+00:00", False),
])
def test_configuration_fields(tmp_path, key, value, mismatch):
    changed = suite_config("AI2D_TEST")
    changed[key] = value
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores()})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": base_scores()}, configs={"AI2D_TEST": changed})
    suite = compare_runs(base, candidate, bootstrap=200).suites[0]
    assert (suite.verdict == MISMATCH) is mismatch
    if mismatch:
        assert [m.field for m in suite.mismatches] == [key]


def test_changed_sample_hash_is_reported(tmp_path):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores()})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": base_scores()},
                          hashes={"AI2D_TEST": {3: "other3", 10: "other10", 999: "other999"}})
    result = compare_runs(base, candidate, bootstrap=1000)
    suite = result.suites[0]
    assert suite.pairing is not None
    assert suite.pairing.hash_changed == 3
    assert suite.pairing.paired == N - 3
    assert suite.pairing.examples["hash_changed"] == ["3", "10", "999"]
    assert suite.verdict == NO_CHANGE
    assert any("997 paired" in note for note in suite.notes)
    text = render_markdown(result)
    assert "different sample_hash" in text and "index 3, 10, 999" in text


def test_samples_in_one_run_only_are_counted(tmp_path):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores()})
    shorter = base_scores()[:900] + [None] * 50  # candidate ran 950 samples and could not score 50 of them
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": shorter})
    pairing = compare_runs(base, candidate, bootstrap=500).suites[0].pairing
    assert pairing is not None
    assert (pairing.paired, pairing.only_base, pairing.scored_base_only, pairing.only_candidate) == (900, 50, 50, 0)


def test_suites_in_one_run_only_and_not_scored_are_listed(tmp_path):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores(), "MMVet": [None] * 5, "OCRBench": [1.0]})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": base_scores(), "MMVet": [None] * 5, "MME": [0.0]})
    result = compare_runs(base, candidate, bootstrap=500)
    assert result.only_base == ["OCRBench"]
    assert result.only_candidate == ["MME"]
    verdicts = {s.suite: s.verdict for s in result.suites}
    assert verdicts == {"AI2D_TEST": NO_CHANGE, "MMVet": NOT_SCORED}
    assert result.exit_code == 1
    # MMVet: the base has no score to defend either (listed, not failing); OCRBench was not run at all
    assert result.not_comparable == [("OCRBench", "missing in the candidate")]
    text = render_markdown(result)
    assert "only in base: OCRBench" in text and "only in candidate: MME" in text


def test_headline_that_is_not_a_mean_is_tested_on_samples(tmp_path):
    # OCRBench-like: the headline is the count of hits (0-1000), not a percentage
    base = write_run(tmp_path / "base", {"OCRBench": base_scores()}, headline={"OCRBench": 700.0}, metric="ocrbench")
    candidate = write_run(tmp_path / "cand", {"OCRBench": flipped(base_scores(), 60, 0)},
                          headline={"OCRBench": 640.0}, metric="ocrbench")
    suite = compare_runs(base, candidate, bootstrap=1000).suites[0]
    assert suite.headline_is_sample_mean is False
    assert suite.delta == -60.0
    assert suite.stats is not None and suite.stats.mean_diff == pytest.approx(-6.0)
    assert suite.verdict == REGRESSED
    assert any("per-sample scores" in note for note in suite.notes)


def test_missing_manifest_names_the_file(tmp_path):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores()})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": base_scores()})
    (candidate / "manifest.json").unlink()
    with pytest.raises(DataError, match=r"cand/manifest\.json"):
        compare_runs(base, candidate)


def test_missing_details_names_the_file(tmp_path):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores()})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": base_scores()})
    (base / "AI2D_TEST" / "details.jsonl").unlink()
    with pytest.raises(DataError, match=r"base/AI2D_TEST/details\.jsonl"):
        compare_runs(base, candidate)


def test_bad_details_line_names_file_and_line(tmp_path):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores()[:3]})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": base_scores()[:3]})
    path = candidate / "AI2D_TEST" / "details.jsonl"
    lines = path.read_text().splitlines()
    lines[1] = '{"index": 1, "score": "high"}'
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"details\.jsonl:2: 'score'"):
        compare_runs(base, candidate)


def test_missing_run_directory_and_no_common_suite(tmp_path):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores()})
    with pytest.raises(DataError, match="nowhere"):
        compare_runs(base, tmp_path / "nowhere")
    other = write_run(tmp_path / "other", {"MME": [1.0]})
    with pytest.raises(DataError, match="no suite in common"):
        compare_runs(base, other)


@pytest.mark.parametrize(("kwargs", "flag"), [({"alpha": 0.0}, "--alpha"), ({"min_delta": -1.0}, "--min-delta"),
                                              ({"bootstrap": 0}, "--bootstrap"), ({"seed": -2}, "--seed")])
def test_bad_settings_name_the_flag(tmp_path, kwargs, flag):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores()})
    with pytest.raises(EvalkitError, match=flag):
        compare_runs(base, base, **kwargs)


def test_outputs(tmp_path):
    changed = suite_config("RealWorldQA")
    changed["max_tiles"] = 12
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores(), "RealWorldQA": base_scores()})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": flipped(base_scores(), 60, 10),
                                              "RealWorldQA": base_scores()}, configs={"RealWorldQA": changed})
    result = compare_runs(base, candidate, bootstrap=1000, seed=4)
    text = render_markdown(result)
    assert text.startswith("# Regression gate: FAIL")
    row = next(line for line in text.splitlines() if line.startswith("| AI2D_TEST"))
    assert "REGRESSED" in row and "-5.00" in row and "| 1000 |" in row
    assert "`max_tiles` base 6 vs candidate 12" in text
    document = to_json(result)
    assert document["settings"] == {"alpha": 0.05, "min_delta": 1.0, "bootstrap": 1000, "seed": 4}
    assert document["exit_code"] == 1 and document["regressed"] == ["AI2D_TEST"]
    assert document["mismatched"] == ["RealWorldQA"]
    assert document["suites"][0]["stats"]["discordant_worse"] == 60
    summary, gate = write_outputs(result, tmp_path / "gate")
    assert summary.read_text(encoding="utf-8") == text
    assert json.loads(gate.read_text(encoding="utf-8")) == json.loads(json.dumps(document))


def test_same_seed_same_numbers(tmp_path):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores()})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": flipped(base_scores(), 30, 20)})
    first = to_json(compare_runs(base, candidate, bootstrap=1500, seed=9))
    second = to_json(compare_runs(base, candidate, bootstrap=1500, seed=9))
    assert first == second
