"""How big the HTML report is, and how long it takes, for a 10,000-sample suite with images (run by hand).

Writes, in a temporary folder, a DocVQA_VAL-shaped VLMEvalKit TSV of ``--samples`` rows, each with its own
``--width`` x ``--height`` document-like PNG (every image distinct, so no thumbnail is shared), and a run folder
as ``evalkit run`` leaves it (manifest recording the TSV and its md5, ``details.jsonl``, ``predictions.jsonl``,
``scores.json``). Then times ``write_report`` (reading the TSV again, making thumbnails within the page's image
budget) and prints the page's size split into its parts: distinct texts, references, thumbnails, the rest.

    PYTHONPATH=. python perf/report_size.py [--samples 10000] [--runs 1] [--keep DIR]

With ``--keep DIR`` a second call reuses the TSV and run folders written there.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import tempfile
import time
from pathlib import Path

SUITE = "DocVQA_VAL"
SUFFIX = "Answer the question using a single word or phrase."


def page_png(number: int, width: int, height: int) -> str:
    """A distinct document-like page: a coloured header band, text lines, the sample number."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, height // 8), fill=((number * 37) % 200, (number * 91) % 200, (number * 53) % 200))
    for line in range(12):
        top = height // 6 + line * (height // 16)
        draw.rectangle((20, top, 20 + (number * (line + 3)) % (width - 60) + 30, top + 6), fill=(60, 60, 70))
    draw.text((24, height - 30), f"form {number:05d}", fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return base64.b64encode(out.getvalue()).decode("ascii")


def write_tsv(path: Path, samples: int, width: int, height: int) -> str:
    """The suite's TSV (index, image, question, answer) and its md5."""
    import pandas as pd

    rows = [{"index": i, "image": page_png(i, width, height),
             "question": f"What is the total amount on invoice number {i:05d} of the supplier's ledger?",
             "answer": str([f"${i * 7 % 1000}.{i % 100:02d}"])} for i in range(samples)]
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_run(run: Path, tsv: Path, md5: str, samples: int) -> None:
    """A run folder as ``evalkit run`` leaves it, half the samples right."""
    folder = run / SUITE
    folder.mkdir(parents=True)
    data = {"source": "tsv", "location": str(tsv), "revision": None, "checksum": md5}
    manifest = {"evalkit_version": "perf", "model_spec": "hf:perf/ledger-7b", "protocol": "paper",
                "model": {"name": "perf/ledger-7b"}, "benchmarks": {SUITE: {"data": data, "errors": 0}}}
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    details, predictions = [], []
    for i in range(samples):
        question = f"What is the total amount on invoice number {i:05d} of the supplier's ledger? {SUFFIX}"
        answer = f"${i * 7 % 1000}.{i % 100:02d}"
        reply = answer if i % 2 == 0 else f"${i % 90}.00"
        details.append({"index": i, "prediction": reply, "extracted": reply, "score": float(i % 2 == 0),
                        "method": "rule", "answer": [answer]})
        predictions.append({"index": i, "instruction": question, "prompt": f"USER: <image>\n{question} ASSISTANT:",
                            "prediction": reply, "error": None})
    (folder / "details.jsonl").write_text("".join(json.dumps(r) + "\n" for r in details), encoding="utf-8")
    (folder / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in predictions), encoding="utf-8")
    scores = {"benchmark": SUITE, "metric": "anls", "score": 50.0, "n": samples, "breakdown": {},
              "protocol": "paper", "variant": "internvl-83c72bc"}
    (folder / "scores.json").write_text(json.dumps(scores), encoding="utf-8")


def sizes(page: Path) -> dict[str, int]:
    """The page's bytes: total, distinct texts, thumbnails, and the count of each."""
    text = page.read_text(encoding="utf-8")
    match = re.search(r'id="report-data">(.*?)</script>', text, re.DOTALL)
    assert match is not None
    data = json.loads(match.group(1))
    return {"page": len(text.encode("utf-8")), "texts": sum(len(s.encode("utf-8")) for s in data["strings"]),
            "strings": len(data["strings"]), "images": sum(len(url) for url in data["images"]),
            "thumbnails": len(data["images"]), "samples": sum(group["count"] for group in data["samples"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1, help="runs on the same data in one report")
    parser.add_argument("--width", type=int, default=600)
    parser.add_argument("--height", type=int, default=780)
    parser.add_argument("--keep", type=Path, help="write here instead of a temporary folder")
    args = parser.parse_args()

    from evalkit.config import Environment
    from evalkit.report.write import write_report

    root = args.keep or Path(tempfile.mkdtemp(prefix="evalkit-report-size-"))
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tsv = root / "LMUData" / f"{SUITE}.tsv"
    tsv.parent.mkdir(exist_ok=True)
    if tsv.is_file():  # a --keep folder from an earlier call: the pages take minutes to draw
        md5 = hashlib.md5(tsv.read_bytes()).hexdigest()
    else:
        md5 = write_tsv(tsv, args.samples, args.width, args.height)
    runs = [root / f"run{number}" for number in range(args.runs)]
    for run in runs:
        if not run.is_dir():
            write_run(run, tsv, md5, args.samples)
    print(f"wrote {args.samples} samples, TSV {tsv.stat().st_size / 1e6:.1f} MB, in "
          f"{time.perf_counter() - started:.1f} s")
    environment = Environment(data_root=tsv.parent, cache_dir=root / "cache", hub_cache_dir=None, offline=True)
    started, cpu = time.perf_counter(), time.process_time()
    written = write_report(runs, root / "board", environment=environment)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    measured = sizes(written.files[2])
    rest = measured["page"] - measured["texts"] - measured["images"]
    print(f"write_report: {seconds:.1f} s wall, {cpu:.1f} s CPU; page {measured['page'] / 1e6:.2f} MB = texts "
          f"{measured['texts'] / 1e6:.2f} MB ({measured['strings']} distinct) + thumbnails "
          f"{measured['images'] / 1e6:.2f} MB ({measured['thumbnails']}, "
          f"{measured['images'] / max(measured['thumbnails'], 1) / 1e3:.1f} kB each) + the rest "
          f"{rest / 1e6:.2f} MB ({rest / measured['samples']:.0f} bytes a sample incl. ~0.11 MB of page)")
    print(f"page: {written.files[2]}")


if __name__ == "__main__":
    main()
