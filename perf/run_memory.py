"""Peak memory of a whole ``evalkit run`` over a 10,000-sample VLMEvalKit TSV (not a test; run by hand).

Writes the TSV of ``perf/tsv_memory.py`` (≈50 KB noise PNG per row, MCQ columns), then runs
``run_eval.py run --model tiny-random --benchmarks RealWorldQA --data-file …`` in a child process and
prints its wall time and peak RSS. Memory must stay flat: images are decoded only for the batch at hand.

    python perf/run_memory.py [--rows 10000] [--batch-size 32] [--max-new-tokens 4]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tsv_memory import write

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "big.tsv"
        write(data, args.rows, side=128)
        command = [sys.executable, str(REPO / "run_eval.py"), "run", "--model", "tiny-random", "--benchmarks",
                   "RealWorldQA", "--data-file", str(data), "--output", str(Path(folder) / "run"), "--batch-size",
                   str(args.batch_size), "--max-new-tokens", str(args.max_new_tokens), "--no-progress"]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        lines = sum(1 for _ in (Path(folder) / "run" / "RealWorldQA" / "predictions.jsonl").open())
        print(f"rows {args.rows}, file {data.stat().st_size / 1e6:.0f} MB, predictions {lines}")
        print(f"wall {seconds:.1f} s ({args.rows / seconds:.0f} samples/s), peak RSS of the run {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
