"""What changes with batch size? (not a test; run by hand)

Runs every suite's demo set through ``tiny-random`` at batch size 1 and 8, in float32 and in bfloat16, and
counts the predictions that differ between the two batch sizes. Left padding with a correct attention mask
and position ids keeps float32 results identical; reduced precision makes a padded row's arithmetic differ
(other shapes, other kernels, other rounding), so greedy decoding can take another token.

    python perf/batch_invariance.py [--max-new-tokens 24]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evalkit.catalog.cards import load_catalog
from evalkit.cli.commands import write_demo_sets
from evalkit.config import Environment, ModelConfig, RunConfig
from evalkit.run.runner import Runner


def predictions(folder: Path, data: dict[str, Path], dtype: str, batch_size: int, tokens: int) -> dict[str, str]:
    output = folder / f"{dtype}-{batch_size}"
    config = RunConfig(model=ModelConfig("tiny-random", device="cpu", dtype=dtype),
                       benchmarks=tuple(load_catalog().names), output=output, environment=Environment.current(),
                       batch_size=batch_size, max_new_tokens=tokens, demo_data=data, progress=False)
    Runner(config, score=False).run()
    found = {}
    for path in output.glob("*/predictions.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            found[f"{path.parent.name}/{record['index']}"] = json.dumps(record["prediction"])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-new-tokens", type=int, default=24)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        data = write_demo_sets(folder / "data")
        print(f"{'dtype':>9} {'samples':>8} {'differ (bs 1 vs 8)':>19}")
        for dtype in ("float32", "bfloat16"):
            one = predictions(folder, data, dtype, 1, args.max_new_tokens)
            eight = predictions(folder, data, dtype, 8, args.max_new_tokens)
            differ = sum(one[key] != eight[key] for key in one)
            print(f"{dtype:>9} {len(one):>8} {differ:>19}")


if __name__ == "__main__":
    main()
