"""The argument parser's manners: one-line errors with "did you mean", and the aliases users bring along.

Every ``--dashed-flag`` is also accepted as ``--dashed_flag`` (lmms-eval's and VLMEvalKit's spelling), and a
flag may name more aliases (``--tasks`` for ``--benchmarks``); aliases work everywhere but stay out of
``--help``'s flag lists, which name them once in the epilog (CONTRACT.md, "Flag aliases").
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from evalkit.suggestions import did_you_mean, nearest

USAGE_ERROR = 2

ALIASES_EPILOG = ("Aliases: every --dashed-flag may be written --dashed_flag; --tasks and --data = --benchmarks; "
                  "--output_path = --output. --debug and --version work before or after the subcommand.")

#: Other tools' names for a flag, wherever the flag is defined (CONTRACT.md, "Flag aliases").
HABITS = {"--benchmarks": ("--tasks", "--data"), "--output": ("--output_path",)}

INVALID_CHOICE = re.compile(r"invalid choice: '(?P<word>[^']*)' \(choose from (?P<known>.*)\)")


def underscore_spellings(names: Iterable[str]) -> list[str]:
    """``--max_new_tokens`` for ``--max-new-tokens``: the spellings to add for a flag's dashed names."""
    return [name[:2] + name[2:].replace("-", "_") for name in names if name.startswith("--") and "-" in name[2:]]


class AliasFormatter(argparse.HelpFormatter):
    """Lists each flag under its own names only; its aliases are in the epilog."""

    def _format_action_invocation(self, action: argparse.Action) -> str:
        hidden = set(getattr(action, "hidden_aliases", ()))
        if not hidden:
            return super()._format_action_invocation(action)
        shown = argparse.Action([name for name in action.option_strings if name not in hidden], action.dest,
                                nargs=action.nargs, metavar=action.metavar)
        return super()._format_action_invocation(shown)


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, ``evalkit: error: …``, exit code 2, with the nearest flag
    or choice offered for an unknown one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", AliasFormatter)
        super().__init__(*args, **kwargs)

    def add_argument(self, *names: Any, **kwargs: Any) -> argparse.Action:
        """As argparse's, plus the flag's :data:`HABITS` and every dashed name's underscore spelling, both kept
        out of the help's flag lists."""
        aliases = [alias for name in names for alias in HABITS.get(name, ())]
        aliases += underscore_spellings([*names, *aliases])
        extra = [alias for alias in dict.fromkeys(aliases) if alias not in names]
        action = super().add_argument(*names, *extra, **kwargs)
        action.hidden_aliases = tuple(extra)  # type: ignore[attr-defined]
        return action

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = self._command_parser(parsed)
            command.error(f"unrecognized arguments: {' '.join(extras)}{nearest_flag(extras, command)}")
        return parsed

    def error(self, message: str) -> NoReturn:
        choice = INVALID_CHOICE.search(message)
        if choice is not None:
            known = re.findall(r"'([^']*)'", choice["known"])
            message += did_you_mean(nearest(choice["word"], known))
        self.exit(USAGE_ERROR, f"evalkit: error: {message} (see '{self.prog} --help')\n")

    def _command_parser(self, parsed: argparse.Namespace) -> argparse.ArgumentParser:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = action.choices.get(getattr(parsed, action.dest, None) or "")
                if isinstance(chosen, argparse.ArgumentParser):
                    return chosen
        return self


def nearest_flag(extras: Sequence[str], parser: argparse.ArgumentParser) -> str:
    """``; did you mean '--batch-size'?`` for the first unknown flag, among ``parser``'s own (aliases aside)."""
    unknown = next((word.partition("=")[0] for word in extras if word.startswith("-")), None)
    if unknown is None:
        return ""
    known = [name for action in parser._actions for name in action.option_strings
             if name not in getattr(action, "hidden_aliases", ())]
    return did_you_mean(nearest(unknown, known))
