"""A small headless-chromium driver for the HTML report's tests.

Two calls only, each one chromium process with a bounded timeout and a throwaway profile:
``dump_dom`` (the DOM after the page's scripts ran) and ``screenshot`` (a PNG of the window);
``parse_dom`` reads a dump into a small tree of :class:`Node` (stdlib ``html.parser`` only).
``CHROMIUM`` is None when ``/usr/bin/chromium`` is absent; the tests skip themselves then.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM: str | None = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
SKIP_REASON = "headless browser tests need /usr/bin/chromium, which is not installed"
TIMEOUT_S = 60.0

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    # let the page's scripts finish before the DOM is dumped or the screenshot taken
    "--virtual-time-budget=5000",
)


def file_url(path: Path, fragment: str = "") -> str:
    """The ``file://`` URL of ``path``, with ``#fragment`` appended when given."""
    url = path.resolve().as_uri()
    return f"{url}#{fragment}" if fragment else url


def _run(args: list[str], url: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        raise RuntimeError(SKIP_REASON)
    with tempfile.TemporaryDirectory(prefix="evalkit-chromium-") as profile:
        command = [CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", *args, url]
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
    return result


def dump_dom(url: str) -> str:
    """The serialised DOM of ``url`` after its scripts ran (chromium's ``--dump-dom``)."""
    return _run(["--dump-dom"], url).stdout


def screenshot(url: str, png: Path, *, width: int = 1400, height: int = 2000) -> Path:
    """Write a ``width`` x ``height`` screenshot of ``url`` to ``png`` and return its path."""
    _run([f"--screenshot={png}", f"--window-size={width},{height}"], url)
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot to {png}")
    return png


# ------------------------------------------------------------------------------------- reading the DOM
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    """An element of a parsed DOM dump: tag, attributes, children (nodes and text)."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        """The concatenated text of this element (script and style contents included, as text)."""
        return "".join(child if isinstance(child, str) else child.text() for child in self.children)

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: str | None = None, *, cls: str | None = None, **attrs: str) -> list[Node]:
        """Descendants (self included) with that tag, class and attribute values (``data_x`` for ``data-x``)."""
        wanted = {name.replace("_", "-"): value for name, value in attrs.items()}
        return [node for node in self.iter()
                if (tag is None or node.tag == tag) and (cls is None or cls in node.classes)
                and all(node.attrs.get(name) == value for name, value in wanted.items())]

    def find(self, tag: str | None = None, *, cls: str | None = None, **attrs: str) -> Node:
        found = self.find_all(tag, cls=cls, **attrs)
        if not found:
            raise LookupError(f"no <{tag or '*'}> with class={cls} {attrs}")
        return found[0]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_dom(html: str) -> Node:
    """Parse a ``--dump-dom`` result into a small tree (script contents stay text, never elements)."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root
