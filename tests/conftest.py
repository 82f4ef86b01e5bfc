"""Test-session setup: only what the test machines need, nothing evalkit itself relies on."""

from __future__ import annotations

import os

from tests.support.processes import SITE
from tests.support.torchvision_on_cpu import install

install()
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SITE), os.environ.get("PYTHONPATH")]))
