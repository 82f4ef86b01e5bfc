"""What each subcommand does, once its flags are parsed."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.catalog.cards import load_catalog
from evalkit.config import Environment, ModelConfig, ModelOptions, RunConfig
from evalkit.run.runner import Runner

if TYPE_CHECKING:
    from evalkit.report.write import WrittenReport
from evalkit.cli.summary import protocols_table, report_lines, run_table
from evalkit.cli.table import format_table

DEMO_OUTPUT = Path("results/demo")
DEMO_MAX_NEW_TOKENS = 24


def run(config: RunConfig, *, leaderboard: bool = False, quiet: bool = False) -> int:
    """Check everything, run, then print the run's own table and where its files are (``--quiet``: the table
    only; ``--leaderboard``: the paper's comparison tables too)."""
    outcomes = Runner(config).run()  # checks the model spec and the data before anything is written
    print(run_table(outcomes))
    if not all(outcome.finished_here for outcome in outcomes):
        if not quiet:
            print("\nthis rank's share is done; another rank merges, scores and writes the report")
        return 0
    written = write_report_quietly(config.output)
    if quiet:
        return 0
    if leaderboard and written is not None:
        print(f"\n{written.markdown}")
    print("\n" + report_lines(config.output, written.files if written is not None else []))
    return 0


def write_report_quietly(run_dir: Path) -> WrittenReport | None:
    """The run's own leaderboard under ``<run>/report/``; a run with nothing scored has none."""
    from evalkit.report.write import write_report
    from evalkit.run.folder import REPORT, SCORES

    if not any(run_dir.glob(f"*/{SCORES}")):
        return None
    return write_report([run_dir], run_dir / REPORT)


def report(runs: list[Path], output: Path, labels: list[tuple[str, Path]] | None = None) -> int:
    from evalkit.report.labels import runs_with_labels
    from evalkit.report.write import write_report

    named = runs_with_labels(runs, labels or [])
    written = write_report([path for path, _ in named], output, labels=[label for _, label in named])
    print(written.markdown)
    print(f"report: {', '.join(str(path) for path in written.files)}")
    return 0


def compare(args: argparse.Namespace) -> int:
    from evalkit.compare.gate import compare_runs
    from evalkit.compare.output import render_markdown, write_outputs

    result = compare_runs(args.base, args.candidate, alpha=args.alpha, min_delta=args.min_delta,
                          bootstrap=args.bootstrap, seed=args.seed, allow_missing=args.allow_missing)
    print(render_markdown(result))
    if args.output is not None:
        summary, gate = write_outputs(result, args.output)
        print(f"written: {summary}, {gate}")
    return result.exit_code


def score(args: argparse.Namespace) -> int:
    from evalkit.scoring.score_file import ScoreRequest, score_file

    request = ScoreRequest(benchmark=args.benchmark, predictions=args.predictions, output=args.output,
                           protocol=args.protocol, judge=args.judge, judge_base_url=args.judge_base_url,
                           data_file=args.data_file, source=args.source, seed=args.seed,
                           timeout=args.request_timeout, max_retries=args.max_retries)
    if args.cross_check:  # refused before anything is scored
        from evalkit.catalog.cards import load_catalog
        from evalkit.scoring.cross_check import check_cross_check

        check_cross_check(load_catalog().get(args.benchmark), args.protocol)
    scored = score_file(request)
    print(protocols_table(scored, args.protocol))
    if "note" in scored.document:
        print(scored.document["note"])
    print(f"\nwritten: {args.output / 'scores.json'}, {args.output / 'details.jsonl'}"
          + (f", {scored.submission}" if scored.submission else ""))
    if args.cross_check:
        from evalkit.scoring.cross_check import cross_check_file, format_cross_check

        result = cross_check_file(request)
        print("\n" + format_cross_check(result))
        return 0 if result.ok else 1
    return 0


def write_demo_sets(folder: Path, names: Sequence[str] | None = None) -> dict[str, Path]:
    """The named suites' (default: every suite's) built-in sample sets, written as VLMEvalKit TSVs into
    ``folder``."""
    from evalkit.demo.sets import write_demo_tsv

    catalog = load_catalog()
    paths = {}
    for spec in (catalog.get(name) for name in (catalog.names if names is None else names)):
        options = {key: value for key, value in spec.demo.items() if key != "family"}
        paths[spec.name] = write_demo_tsv(spec.demo["family"], folder / f"{spec.name}.tsv", language=spec.language,
                                          answers_hidden=spec.answers_hidden, **options)
    return paths


def demo(output: Path = DEMO_OUTPUT) -> int:
    """Every suite's demo set through ``tiny-random`` on the CPU (generation capped for speed)."""
    catalog = load_catalog()
    config = RunConfig(model=ModelConfig("tiny-random", ModelOptions(device="cpu", dtype="float32")),
                       benchmarks=tuple(catalog.names), output=output, environment=Environment.current(),
                       batch_size=8, max_new_tokens=DEMO_MAX_NEW_TOKENS, demo_data=write_demo_sets(output / "data"))
    print(f"evalkit demo: {len(catalog)} suites, built-in sample sets, tiny-random model on the CPU, "
          f"at most {DEMO_MAX_NEW_TOKENS} new tokens")
    return run(config)


def list_registry(what: str) -> int:
    if what == "models":
        from evalkit.models.registry import list_rows

        print(format_table(("spec", "backend"), list_rows()))
        return 0
    from evalkit.cli.listing import benchmarks_table

    print(benchmarks_table())
    return 0


def preview(args: argparse.Namespace) -> int:
    from evalkit.cli.parser import model_args
    from evalkit.run.preview import write_preview

    data_file = args.data_file
    if args.demo:
        spec = load_catalog().get(args.benchmark)
        data_file = write_demo_sets(args.output / "data", [spec.name])[spec.name]
    written = write_preview(benchmark=args.benchmark, index=args.index, output=args.output, protocol=args.protocol,
                            model_spec=args.model, data_file=data_file, source=args.source,
                            max_tiles=args.max_tiles, trust_remote_code=args.trust_remote_code,
                            model_args=model_args(args))
    for path in written:
        print(path)
    print(received_line(written, args.model))
    return 0


def received_line(written: Sequence[Path], model: str | None) -> str:
    """Which of the written files the model receives: its processor's images and prompt.txt, or without
    ``--model`` the InternVL 1.5 tiles (what a tiling model gets)."""
    if model is not None:
        inputs = [str(path) for path in written if path.name.startswith("model_input")]
        prompt = next(str(path) for path in written if path.name == "prompt.txt")
        return f"{model} receives: {', '.join([*inputs, prompt])}"
    tiles = [path for path in written if "_tile" in path.name]
    if not tiles:
        return "the sample has no image: the model receives the text of instruction.txt"
    shown = f"{tiles[0]} … {tiles[-1]}" if len(tiles) > 1 else str(tiles[0])
    return (f"an InternVL-style model receives {len(tiles)} tiles: {shown}; --model SPEC shows what another "
            "model's processor makes of the images")
