"""The command line, ``evalkit`` / ``python run_eval.py``: flags parsed into one config, then one pipeline call.

``parser`` defines the flags, ``main`` runs a subcommand and turns errors into one line and an exit code,
``commands`` is what each subcommand does, ``table`` prints terminal tables.
"""

from evalkit.cli.main import entry_point, main

__all__ = ["entry_point", "main"]
