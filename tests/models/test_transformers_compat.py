"""The one place transformers releases differ, and the refusal of an environment a checkpoint's code cannot run in."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from evalkit.cli import main
from evalkit.errors import ModelSpecError
from evalkit.models import internvl_checkpoint as internvl
from evalkit.models import transformers_compat
from evalkit.models.transformers_compat import (
    SUPPORTED,
    CodeRequirements,
    check_requirements,
    compat_facts,
    dtype_keyword,
    missing_modules,
    transformers_version,
)
from tests.models.internvl_reference import FIXTURE, checkpoint_code_runs_here, needs_fixture

REPO = Path(__file__).resolve().parents[2]


def test_the_supported_range_is_pyprojects_and_holds_this_environment() -> None:
    import tomllib

    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    [line] = [line for line in dependencies if line.startswith("transformers")]
    assert SpecifierSet(line.removeprefix("transformers")) == SUPPORTED
    assert transformers_version() in SUPPORTED


def test_the_internvl_extra_installs_what_the_checkpoint_code_needs() -> None:
    import tomllib

    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["internvl"]
    names = {line.split(">")[0].split("<")[0].split("=")[0] for line in extra}
    assert names == {"transformers", *internvl.CHECKPOINT_CODE.modules}
    [line] = [line for line in extra if line.startswith("transformers")]
    assert SpecifierSet(line.removeprefix("transformers")) == internvl.CHECKPOINT_CODE.transformers
    assert Version("4.51.3") in internvl.CHECKPOINT_CODE.transformers and Version("4.52.0") not in SUPPORTED & \
        internvl.CHECKPOINT_CODE.transformers


@pytest.mark.parametrize(("version", "keyword"), [("4.51.3", "torch_dtype"), ("4.55.4", "torch_dtype"),
                                                  ("4.56.0", "dtype"), ("5.24.0", "dtype")])
def test_the_dtype_keyword_follows_the_release(monkeypatch: pytest.MonkeyPatch, version: str, keyword: str) -> None:
    monkeypatch.setattr(transformers_compat, "transformers_version", lambda: Version(version))
    assert dtype_keyword("bf16") == {keyword: "bf16"}
    assert compat_facts()["dtype_keyword"] == keyword and compat_facts()["transformers"] == version


def test_missing_modules_are_looked_up_not_imported() -> None:
    assert missing_modules(("json", "evalkit_no_such_module", "packaging")) == ["evalkit_no_such_module"]


def test_the_refusal_is_one_line_with_every_problem_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transformers_compat, "transformers_version", lambda: Version("5.24.0"))
    needs = CodeRequirements("Some checkpoint code", SpecifierSet(">=4.37.2,<4.52"), ("json", "evalkit_nope_a",
                                                                                     "evalkit_nope_b"), "internvl")
    with pytest.raises(ModelSpecError) as caught:
        check_requirements(needs, "internvl:x")
    assert str(caught.value) == (
        "model 'internvl:x': Some checkpoint code cannot run here: it loads under transformers <4.52,>=4.37.2 and "
        "this environment has 5.24.0; it needs evalkit_nope_a, evalkit_nope_b, which are not installed; install "
        "with: pip install \"evalkit[internvl]\" (from a checkout: pip install -e \".[internvl]\")")
    check_requirements(dataclasses.replace(needs, transformers=SpecifierSet(">=5"), modules=("json",)), "x")


def _run_into(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    data = tmp_path / "docvqa.tsv"
    data.write_text("index\tquestion\tanswer\timage\n0\tQ?\t['a']\tbm90IGFuIGltYWdl\n")
    code = main(["run", "--model", f"internvl:{FIXTURE}", "--trust-remote-code", "--benchmarks", "DocVQA_VAL",
                 "--data-file", str(data), "--output", str(tmp_path / "run"), "--device", "cpu", "--no-progress"])
    return code, capsys.readouterr().err


@needs_fixture
@pytest.mark.skipif(checkpoint_code_runs_here(), reason="this environment runs the checkpoint's code (internvl extra)")
def test_an_environment_that_cannot_run_the_checkpoint_is_refused_before_any_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run_into(tmp_path, capsys)
    assert code == 2 and not (tmp_path / "run").exists()
    [line] = err.strip().splitlines()
    assert f"internvl:{FIXTURE}" in line and f"this environment has {transformers_version()}" in line
    assert line.endswith("install with: pip install \"evalkit[internvl]\" (from a checkout: pip install -e "
                         "\".[internvl]\")")


@needs_fixture
def test_a_missing_module_is_refused_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    needs = dataclasses.replace(internvl.CHECKPOINT_CODE,
                                modules=(*internvl.CHECKPOINT_CODE.modules, "evalkit_no_such_module"))
    monkeypatch.setattr(internvl, "CHECKPOINT_CODE", needs)
    code, err = _run_into(tmp_path, capsys)
    assert code == 2 and not (tmp_path / "run").exists()
    [line] = err.strip().splitlines()
    assert "evalkit_no_such_module" in line and "not installed" in line and "pip install" in line
