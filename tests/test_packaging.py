"""The wheel: every card and the baselines inside, every package of the tree listed in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _packages_on_disk() -> set[str]:
    return {".".join(path.parent.relative_to(REPO).parts) for path in (REPO / "evalkit").rglob("__init__.py")}


def test_pyproject_lists_every_package_of_the_tree() -> None:
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    assert listed == _packages_on_disk() | {"evalkit.benchmarks"}


def test_the_wheel_ships_every_card(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for folder in ("evalkit", "benchmarks"):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    [wheel] = (tmp_path / "dist").glob("evalkit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    cards = sorted(path.name for path in (REPO / "benchmarks").iterdir() if path.suffix in (".toml", ".csv"))
    assert len(cards) == 26 and "baselines.csv" in cards and "_defaults.toml" in cards
    assert {f"evalkit/benchmarks/{card}" for card in cards} <= names
    assert {f"{package.replace('.', '/')}/__init__.py" for package in _packages_on_disk()} <= names
    assert "evalkit/report/assets/report.js" in names and "evalkit/py.typed" in names
