"""The program: parse the flags, run the subcommand, turn an :class:`EvalkitError` into one line and exit 2."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from evalkit.cli.parser import build_parser, run_config_from
from evalkit.errors import EvalkitError


def dispatch(args: argparse.Namespace) -> int:
    from evalkit.cli import commands

    if args.command is None:
        return commands.demo()
    if args.command == "run":
        return commands.run(run_config_from(args), leaderboard=args.leaderboard, quiet=args.quiet)
    if args.command == "list":
        return commands.list_registry(args.what)
    if args.command == "score":
        return commands.score(args)
    if args.command == "report":
        return commands.report(args.runs, args.output, args.label)
    if args.command == "compare":
        return commands.compare(args)
    if args.command == "import":
        from evalkit.cli.imports import import_results

        return import_results(args)
    return commands.preview(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return dispatch(args)
    except EvalkitError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"evalkit: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("evalkit: interrupted; every finished sample is saved, re-run the command to resume", file=sys.stderr)
        return 130


def entry_point() -> None:
    sys.exit(main())
