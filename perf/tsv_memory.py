"""Peak memory and wall time of loading a large VLMEvalKit TSV (not a test; run by hand).

Writes a TSV of ``--rows`` rows (default 10,000), each with a ~50 KB random-noise
PNG as base64, into a temporary folder (in a child process, so the writer's
memory does not count), then loads it through ``load_samples`` with the md5
pinned, decodes a few images, and prints the file size, wall times and the peak
RSS of this process (``resource.getrusage(...).ru_maxrss``).

    python perf/tsv_memory.py [--rows 10000] [--side 128] [--keep DIR]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILENAME = "PerfSuite.tsv"


def _noise_png(seed: int, side: int) -> bytes:
    from PIL import Image

    raw = random.Random(seed).randbytes(side * side * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), raw).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def write(path: Path, rows: int, side: int, distinct: int = 500) -> None:
    """Write the TSV with pandas, as VLMEvalKit does, in chunks of 500 rows."""
    import pandas as pd

    images = [base64.b64encode(_noise_png(seed, side)).decode("ascii") for seed in range(min(rows, distinct))]
    for start in range(0, rows, 500):
        stop = min(rows, start + 500)
        frame = pd.DataFrame(
            {
                "index": range(start, stop),
                "image": [images[i % len(images)] for i in range(start, stop)],
                "question": [f"Question {i}: what is shown?\tTabbed" for i in range(start, stop)],
                "A": ["noise"] * (stop - start),
                "B": ["a cat"] * (stop - start),
                "answer": ["A"] * (stop - start),
                "category": [f"cat-{i % 7}" for i in range(start, stop)],
            }
        )
        frame.to_csv(path, sep="\t", index=False, mode="w" if start == 0 else "a", header=start == 0)


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def measure(root: Path, md5: str) -> None:
    from evalkit.catalog.spec import BenchmarkSpec, ColumnMap, TsvSource
    from evalkit.data.sources import load_samples

    columns = ColumnMap(option_letters="AB", metadata=("category",))
    source = TsvSource(url="http://127.0.0.1:9/unused.tsv", md5=md5, filename=FILENAME, columns=columns)
    spec = BenchmarkSpec("PerfSuite", "perf", "mcq", 1, "", (), "en", {}, False, "tsv", {"tsv": source}, {})
    baseline = _peak_rss_mb()
    start = time.perf_counter()
    loaded = load_samples(spec, data_root=root, offline=True)
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = load_samples(spec, data_root=root, offline=True)
    second = time.perf_counter() - start
    start = time.perf_counter()
    picks = random.Random(0).sample(range(len(loaded.samples)), 5)
    sizes = [loaded.samples[i].images[0].load().size for i in picks]
    decode = time.perf_counter() - start
    size = (root / FILENAME).stat().st_size
    print(f"rows:                    {len(loaded.samples)} (second load: {len(again.samples)})")
    print(f"file size:               {size / 1e6:.1f} MB ({size} bytes), md5 {loaded.info.checksum}")
    print(f"load, first (md5 twice): {first:.2f} s")
    print(f"load, again (sidecar):   {second:.2f} s")
    print(f"decode 5 images:         {decode * 1000:.1f} ms, sizes {sorted(set(sizes))}")
    print(f"peak RSS before loading: {baseline:.1f} MB (interpreter and imports)")
    print(f"peak RSS after loading:  {_peak_rss_mb():.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--side", type=int, default=128, help="image side in pixels (128 → ~49 KB PNG)")
    parser.add_argument("--keep", type=Path, help="write into this folder and keep the file")
    parser.add_argument("--write-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_only is not None:
        write(args.write_only, args.rows, args.side)
        return
    with tempfile.TemporaryDirectory(prefix="tsv-memory-") as scratch:
        root = args.keep or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        path = root / FILENAME
        start = time.perf_counter()
        command = [sys.executable, __file__, "--rows", str(args.rows), "--side", str(args.side)]
        subprocess.run([*command, "--write-only", str(path)], check=True)
        print(f"wrote {path} in {time.perf_counter() - start:.1f} s (child process)")
        sidecar = path.with_name(path.name + ".md5")
        sidecar.unlink(missing_ok=True)
        measure(root, _md5(path))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
