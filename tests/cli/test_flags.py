"""Flags: other tools' spellings as aliases, global flags anywhere, --version, and the nearest flag for a typo."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import evalkit
from evalkit.cli import main
from evalkit.cli.parser import build_parser

RUN = ["run", "--model", "tiny-random"]


def parse(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)


@pytest.mark.parametrize("flag", ["--benchmarks", "--tasks", "--data"])
def test_tasks_and_data_are_benchmarks(flag: str) -> None:
    args = parse([*RUN, flag, "MME,DocVQA_VAL"])
    assert args.benchmarks == "MME,DocVQA_VAL" and args.data_file is None


def test_every_dashed_flag_has_its_underscore_spelling() -> None:
    dashed = parse([*RUN, "--benchmarks", "MME", "--batch-size", "4", "--model-args", "a=b", "--max-new-tokens", "7",
                    "--output", "out", "--max-tiles", "2", "--data-file", "d.tsv", "--no-verify-checksum",
                    "--trust-remote-code", "--judge-base-url", "http://x", "--paper-mode"])
    underscored = parse([*RUN, "--benchmarks", "MME", "--batch_size", "4", "--model_args", "a=b",
                         "--max_new_tokens", "7", "--output_path", "out", "--max_tiles", "2", "--data_file", "d.tsv",
                         "--no_verify_checksum", "--trust_remote_code", "--judge_base_url", "http://x",
                         "--paper_mode"])
    assert vars(dashed) == vars(underscored)
    assert (underscored.batch_size, underscored.model_args, underscored.max_new_tokens, underscored.output) == (
        4, "a=b", 7, Path("out"))
    assert underscored.verify_checksums is False and underscored.data_file == Path("d.tsv")


@pytest.mark.parametrize("command", [
    ["score", "--benchmark", "MME", "--predictions", "p.jsonl"], ["report", "r1"], ["preview", "--benchmark", "MME",
                                                                                   "--index", "1"],
    ["import", "vlmevalkit", "d"],
])
def test_output_path_is_output_in_every_command(command: list[str]) -> None:
    assert parse([*command, "--output_path", "somewhere"]).output == Path("somewhere")


def test_the_help_lists_each_flag_once_and_names_the_aliases(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(["run", "--help"])
    text = capsys.readouterr().out
    assert "--batch-size BATCH_SIZE" in text and "--batch_size" not in text and "--tasks TASKS" not in text
    assert "--tasks and --data = --benchmarks" in " ".join(text.split())


@pytest.mark.parametrize("argv", [["--version"], ["run", "--version"], ["list", "benchmarks", "--version"]])
def test_version(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 0 and capsys.readouterr().out == f"evalkit {evalkit.__version__}\n"


@pytest.mark.parametrize("argv", [["--debug", "list", "models"], ["list", "models", "--debug"],
                                  ["list", "--debug", "models"]])
def test_debug_before_or_after_the_subcommand(argv: list[str]) -> None:
    assert parse(argv).debug is True


def test_debug_defaults_to_off_in_a_subcommand() -> None:
    assert parse(["list", "models"]).debug is False


def test_debug_after_the_subcommand_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--model", "tiny-random", "--benchmarks", "Nope", "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and err.endswith("evalkit: error: unknown benchmark 'Nope' "
                                                                       "(see 'evalkit list benchmarks')\n")


@pytest.mark.parametrize(("argv", "message"), [
    ([*RUN, "--benchmarks", "MME", "--batchsize", "3"],
     "evalkit: error: unrecognized arguments: --batchsize 3; did you mean '--batch-size'? (see 'evalkit run --help')"),
    (["score", "--benchmark", "MME", "--predictions", "p", "--output", "o", "--protocl=paper"],
     "evalkit: error: unrecognized arguments: --protocl=paper; did you mean '--protocol'? "
     "(see 'evalkit score --help')"),
    (["rnu"], "evalkit: error: argument command: invalid choice: 'rnu' (choose from 'run', 'score', 'report', "
              "'compare', 'import', 'list', 'preview'); did you mean 'run'? (see 'evalkit --help')"),
    (["list", "benchmark"], "evalkit: error: argument what: invalid choice: 'benchmark' (choose from 'benchmarks', "
                            "'models'); did you mean 'benchmarks'? (see 'evalkit list --help')"),
])
def test_a_mistyped_flag_or_choice_gets_the_nearest_one(argv: list[str], message: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert capsys.readouterr().err.splitlines() == [message]


def test_an_unknown_flag_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([*RUN, "--benchmarks", "MME", "--output", str(tmp_path / "run"), "--max-new-tokns", "3"])
    assert "did you mean '--max-new-tokens'?" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
