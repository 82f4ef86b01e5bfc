"""Started by every Python process the tests launch (``tests/conftest.py`` puts this folder on PYTHONPATH)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.support.torchvision_on_cpu import install

sys.path.pop(0)
install()
