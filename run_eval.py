"""evalkit's entry point: ``python run_eval.py`` (the demo) or ``python run_eval.py run …``."""

from evalkit.cli import entry_point

if __name__ == "__main__":
    entry_point()
