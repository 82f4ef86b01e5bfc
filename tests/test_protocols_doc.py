"""docs/protocols.md covers every suite of the catalog, and the README links it."""

from __future__ import annotations

import re
from pathlib import Path

from evalkit.catalog.cards import load_catalog

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "protocols.md"


def test_every_suite_has_a_section() -> None:
    headings = [line[3:] for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("## ")]
    named = {name.strip() for heading in headings for name in heading.split(",")}
    assert set(load_catalog().names) <= named


def test_every_commit_cited_is_a_pinned_reference() -> None:
    commits = set(re.findall(r"@([0-9a-f]{7,8})\b", DOC.read_text(encoding="utf-8")))
    assert commits <= {"83c72bc", "4ad5481d", "e8e78f05", "309508e"}, commits


def test_the_readme_links_it() -> None:
    assert "(docs/protocols.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
