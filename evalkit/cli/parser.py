"""The command line: ``evalkit`` / ``python run_eval.py`` (README.md, "Usage").

Flags are parsed into one :class:`~evalkit.config.RunConfig` and handed to the
pipeline. Bad usage or bad input ends with one line on stderr naming the
culprit and exit code 2; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import evalkit
from evalkit.catalog.spec import PROTOCOLS
from evalkit.cli.flags import ALIASES_EPILOG, USAGE_ERROR, OneLineParser
from evalkit.cli.listing import COLUMNS_HELP
from evalkit.config import Environment, ModelConfig, ModelOptions, RunConfig
from evalkit.errors import EvalkitError

__all__ = ["USAGE_ERROR", "OneLineParser", "build_parser", "run_config_from"]


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' must be at least 1")
    return value


def run_label(text: str) -> tuple[str, Path]:
    """``report --label NAME=RUN_DIR``: the run's name in the report, and its folder."""
    name, equals, folder = text.partition("=")
    if not equals or not name.strip() or not folder:
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=RUN_DIR")
    return name.strip(), Path(folder)


def judge_spec(text: str) -> str:
    """``exact_matching``, ``openai:<model>`` or ``hf:<id or folder>`` (README.md, "Scoring, protocols and judges")."""
    if text == "exact_matching" or (text.partition(":")[0] in ("openai", "hf") and text.partition(":")[2]):
        return text
    raise argparse.ArgumentTypeError(f"unknown judge '{text}' (known: exact_matching, openai:<model>, hf:<id>)")


def _add_global_arguments(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``--debug`` and ``--version``, before or after the subcommand (after it, unset leaves the top's value)."""
    default = False if top else argparse.SUPPRESS
    parser.add_argument("--debug", action="store_true", default=default, help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"evalkit {evalkit.__version__}")


def _add_judge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--judge", type=judge_spec, default="exact_matching",
                        help="exact_matching (rules only), openai:<model> (OPENAI_API_KEY, OPENAI_API_BASE), hf:<id>")
    parser.add_argument("--judge-base-url", help="an OpenAI-compatible endpoint for the judge (vLLM, LMDeploy, …)")
    parser.add_argument("--request-timeout", type=float, help="seconds per API request, model and judge (default "
                        "120 for models, 60 for judges)")
    parser.add_argument("--max-retries", type=int, help="retries of an API request after the first (default 6)")


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="hf:<id or dir>, internvl:<id>, openai:<model>, "
                        "vllm:<id>, tiny-random")
    parser.add_argument("--benchmarks", required=True, help="comma-separated suite names (see 'list benchmarks')")
    parser.add_argument("--output", type=Path, help="run directory (default results/<model>)")
    parser.add_argument("--limit", type=positive_int, help="only the first N samples of each suite")
    parser.add_argument("--batch-size", type=positive_int, default=1, help="requests per generate call (default 1)")
    _add_judge_arguments(parser)
    parser.add_argument("--protocol", choices=PROTOCOLS, default="paper")
    parser.add_argument("--data-file", type=Path, help="read the suite from this TSV/parquet/jsonl (one suite only)")
    parser.add_argument("--source", choices=("tsv", "hub", "file"), help="which of the card's sources to use")
    parser.add_argument("--max-tiles", type=positive_int, help="override the suite's max tiles per image")
    parser.add_argument("--max-new-tokens", type=positive_int, help="override the suite's max_new_tokens")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N, auto-map (device_map=auto)")
    parser.add_argument("--dtype", default="auto", choices=("auto", "float32", "float16", "bfloat16"))
    parser.add_argument("--trust-remote-code", action="store_true", help="allow a checkpoint's own code to run")
    parser.add_argument("--model-args", metavar="KEY=VALUE,...",
                        help="the backend's own options, checked against it ('list models' shows each backend's)")
    parser.add_argument("--concurrency", type=positive_int, help="openai: requests in flight at once (default 8)")
    parser.add_argument("--price-input", type=float, help="openai: price per million prompt tokens, for the cost")
    parser.add_argument("--price-output", type=float, help="openai: price per million completion tokens")
    parser.add_argument("--no-verify-checksum", dest="verify_checksums", action="store_false",
                        help="use a data file whose md5 differs from the card's")
    parser.add_argument("--retry-errors", action="store_true", help="re-run samples recorded with an error")
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    parser.add_argument("--prefetch", type=int, default=2, metavar="N",
                        help="worker threads decoding and tiling the next batches ahead of generation (0: inline)")
    parser.add_argument("--no-length-grouping", dest="group_by_length", action="store_false",
                        help="keep dataset order in batches instead of grouping prompts of similar length")
    parser.add_argument("--paper-mode", action="store_true",
                        help="final numbers: batch size 1, the paper protocol's prompts, tiles and decoding, "
                             "no overrides")
    parser.add_argument("--leaderboard", action="store_true",
                        help="also print the paper's comparison tables (they are always in <output>/report/)")
    parser.add_argument("--quiet", action="store_true", help="print only the run's table (no progress, no file "
                        "list); errors and warnings still go to stderr")


def _add_import_parser(commands: argparse._SubParsersAction) -> None:
    imports = commands.add_parser("import", help="turn VLMEvalKit's prediction files or lmms-eval's sample logs "
                                  "into an evalkit run (scored, ready for report and compare)")
    imports.add_argument("tool", choices=("vlmevalkit", "lmms-eval"))
    imports.add_argument("directory", type=Path, metavar="DIR",
                         help="VLMEvalKit's outputs/ (or outputs/<model>/); lmms-eval's --output_path folder")
    imports.add_argument("--output", type=Path, required=True, metavar="RUN_DIR")
    imports.add_argument("--force", action="store_true", help="replace RUN_DIR when it is an evalkit run folder")
    imports.add_argument("--protocol", choices=PROTOCOLS, default="vlmevalkit",
                         help="the scoring protocol (default vlmevalkit; scores.json also gives the other's)")
    imports.add_argument("--data-file", action="append", default=[], metavar="SUITE=PATH",
                         help="lmms-eval: the suite's rows, to find each sample's index (default: the suite's "
                              "TSV in $LMUData); repeatable")
    _add_judge_arguments(imports)


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="evalkit", description="Evaluate vision-language models on the InternVL 1.5 suites. "
                           "With no arguments: the demo.", epilog=ALIASES_EPILOG)
    _add_global_arguments(parser, top=True)
    commands = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    run = commands.add_parser("run", help="inference for the named suites; resumes a run directory")
    _add_run_arguments(run)
    score = commands.add_parser("score", help="score an existing prediction file, no model needed")
    score.add_argument("--benchmark", required=True)
    score.add_argument("--predictions", type=Path, required=True,
                       help="evalkit predictions.jsonl, or a VLMEvalKit {model}_{dataset}.xlsx/.tsv/.csv")
    score.add_argument("--output", type=Path, required=True)
    score.add_argument("--protocol", choices=PROTOCOLS, default="paper")
    score.add_argument("--data-file", type=Path, help="the suite's data, for a predictions.jsonl")
    score.add_argument("--source", choices=("tsv", "hub", "file"))
    score.add_argument("--seed", type=int, default=0)
    score.add_argument("--cross-check", action="store_true",
                       help="also run the installed VLMEvalKit's own exact-matching evaluation of the same predictions "
                            "and compare row by row (--protocol vlmevalkit; needs the vlmeval extra; exit 1 if they "
                            "differ)")
    _add_judge_arguments(score)
    report = commands.add_parser("report", help="the leaderboard: runs beside the paper's baselines (xlsx, md, html)")
    report.add_argument("runs", nargs="*", type=Path, metavar="RUN_DIR")
    report.add_argument("--output", type=Path, required=True)
    report.add_argument("--label", action="append", default=[], type=run_label, metavar="NAME=RUN_DIR",
                        help="name a run NAME in the xlsx, md and html (repeatable; the run need not be listed "
                             "again); a plain RUN_DIR keeps its model's name")
    compare = commands.add_parser("compare", help="regression gate: exit 1 if the candidate is significantly worse")
    compare.add_argument("base", type=Path, metavar="BASE_RUN_DIR")
    compare.add_argument("candidate", type=Path, metavar="CANDIDATE_RUN_DIR")
    compare.add_argument("--output", type=Path, help="write summary.md and gate.json here")
    compare.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    compare.add_argument("--min-delta", type=float, default=1.0, help="smallest change in points that counts")
    compare.add_argument("--bootstrap", type=positive_int, default=10_000, help="bootstrap resamples")
    compare.add_argument("--seed", type=int, default=0)
    compare.add_argument("--allow-missing", action="store_true",
                         help="skip (and list) base suites missing, unscored or mismatched in the candidate instead "
                              "of failing")
    _add_import_parser(commands)
    listing = commands.add_parser("list", help="what the registry knows", description=COLUMNS_HELP)
    listing.add_argument("what", choices=("benchmarks", "models"))
    preview = commands.add_parser("preview", help="write exactly what a model receives for one sample")
    preview.add_argument("--benchmark", required=True)
    preview.add_argument("--index", required=True, help="the dataset's index of the sample")
    preview.add_argument("--model", help="render through this model's chat template and processor")
    preview.add_argument("--output", type=Path, required=True)
    preview.add_argument("--protocol", choices=PROTOCOLS, default="paper")
    preview.add_argument("--data-file", type=Path)
    preview.add_argument("--source", choices=("tsv", "hub", "file"))
    preview.add_argument("--max-tiles", type=positive_int)
    preview.add_argument("--trust-remote-code", action="store_true")
    preview.add_argument("--model-args", metavar="KEY=VALUE,...", help="the backend's own options")
    preview.add_argument("--demo", action="store_true", help="take the sample from the suite's built-in demo set")
    for command in commands.choices.values():
        _add_global_arguments(command, top=False)
        command.epilog = command.epilog or ALIASES_EPILOG
    return parser


def check_paper_mode(args: argparse.Namespace) -> None:
    """``--paper-mode`` fixes batch size 1 and the paper protocol; a flag that would change them is refused."""
    if not args.paper_mode:
        return
    checks = (("--batch-size", args.batch_size != 1), ("--protocol", args.protocol != "paper"),
              ("--max-tiles", args.max_tiles is not None), ("--max-new-tokens", args.max_new_tokens is not None))
    conflicts = [flag for flag, bad in checks if bad]
    if conflicts:
        raise EvalkitError(f"--paper-mode fixes what {', '.join(conflicts)} would change; drop one or the other")


#: Flags that are shorthands for an ``openai:`` option (``--concurrency 4`` = ``--model-args concurrency=4``).
OPTION_FLAGS = ("concurrency", "price_input", "price_output")


def model_args(args: argparse.Namespace) -> dict[str, str]:
    """``--model-args`` with the shorthand flags folded in; a flag that contradicts ``--model-args`` is an error."""
    from evalkit.models.registry import parse_model_args

    pairs = parse_model_args(getattr(args, "model_args", None) or "")
    for name in OPTION_FLAGS:
        value = getattr(args, name, None)
        if value is None:
            continue
        flag = "--" + name.replace("_", "-")
        if name in pairs and pairs[name] != str(value):
            raise EvalkitError(f"{flag} {value} contradicts --model-args {name}={pairs[name]}")
        pairs[name] = str(value)
    return pairs


def run_config_from(args: argparse.Namespace) -> RunConfig:
    from evalkit.catalog.cards import load_catalog

    check_paper_mode(args)
    if args.prefetch < 0:
        raise EvalkitError("--prefetch must be 0 or more")
    specs = load_catalog().resolve(args.benchmarks)
    if args.data_file is not None and len(specs) > 1:
        raise EvalkitError("--data-file takes one benchmark, but --benchmarks names several")
    output = args.output or Path("results") / args.model.replace(":", "_").replace("/", "_")
    return RunConfig(
        model=ModelConfig(args.model, ModelOptions(device=args.device, dtype=args.dtype,
                                                   trust_remote_code=args.trust_remote_code, args=model_args(args),
                                                   seed=args.seed, timeout=args.request_timeout,
                                                   max_retries=args.max_retries)),
        benchmarks=tuple(spec.name for spec in specs), output=output, environment=Environment.current(),
        protocol=args.protocol, limit=args.limit, batch_size=args.batch_size, seed=args.seed,
        max_tiles=args.max_tiles, max_new_tokens=args.max_new_tokens, data_file=args.data_file,
        source=args.source, judge=args.judge, judge_base_url=args.judge_base_url,
        verify_checksums=args.verify_checksums,
        retry_errors=args.retry_errors, progress=args.progress and not args.quiet, prefetch_workers=args.prefetch,
        group_by_length=args.group_by_length and not args.paper_mode)
