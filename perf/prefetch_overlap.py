"""Does generation wait for preprocessing? (item 5 of the models issue; not a test, run by hand)

A model adapter that takes a fixed time per batch (a stand-in for the accelerator) is run through the real
runner on DocVQA-like pages (JPEG document scans, decoded and tiled with InternVL's dynamic resolution at 18
tiles in the adapter's ``prepare``, exactly the CPU work the internvl: backend does). The run's wall time is
compared with the model's time alone, with prefetching on (default) and off.

    python perf/prefetch_overlap.py [--pages 96] [--batch-size 8] [--seconds-per-batch 1.0]
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evalkit.config import Environment, ModelConfig, RunConfig
from evalkit.models.base import Capabilities, Generation, RenderedRequest, Request
from evalkit.run.runner import Runner
from evalkit.tiling import pixel_values


class FixedTimeModel:
    """``prepare`` tiles every image (CPU, in the prefetch threads); ``generate_prepared`` sleeps per batch."""

    name = "fixed-time"
    capabilities = Capabilities(max_batch_size=64, tiled=True)

    def __init__(self, seconds_per_batch: float) -> None:
        self.seconds_per_batch = seconds_per_batch
        self.model_seconds = 0.0

    def describe(self) -> dict[str, object]:
        return {"name": self.name}

    def render(self, request: Request) -> RenderedRequest:
        return RenderedRequest(request.messages[-1].text, ())

    def prepare(self, requests: Sequence[Request]) -> list[int]:
        tiles = [pixel_values(part.image, max_tiles=part.max_tiles).shape[0]
                 for request in requests for message in request.messages for part in message.images]
        return [len(requests), sum(tiles)]

    def generate_prepared(self, prepared: object) -> list[Generation]:
        count = prepared[0]  # type: ignore[index]
        start = time.perf_counter()
        time.sleep(self.seconds_per_batch)
        self.model_seconds += time.perf_counter() - start
        return [Generation(text="answer", prompt="") for _ in range(count)]

    def generate(self, requests: Sequence[Request]) -> list[Generation]:
        return self.generate_prepared(self.prepare(requests))


SIZE = (1700, 2200)


def page(seed: int) -> bytes:
    """A page of text lines (1700x2200, a typical DocVQA scan, by default), JPEG-encoded like a scan."""
    rng = random.Random(seed)
    image = Image.new("RGB", SIZE, (250, 250, 245))
    draw = ImageDraw.Draw(image)
    for y in range(120, SIZE[1] - 100, 38):
        draw.text((120, y), " ".join(rng.choice(["invoice", "total", "date", "42.00", "ACME"]) for _ in range(14)),
                  fill=(20, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def write_data(path: Path, pages: int) -> None:
    import base64

    images = [base64.b64encode(page(seed)).decode() for seed in range(8)]
    rows = [{"index": i, "image": images[i % 8], "question": f"What is the total on page {i}?", "answer": "['42']"}
            for i in range(pages)]
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)


def measure(folder: Path, data: Path, args: argparse.Namespace, workers: int) -> tuple[float, float]:
    model = FixedTimeModel(args.seconds_per_batch)
    environment = Environment(data_root=folder, cache_dir=folder / "cache", hub_cache_dir=None, offline=True)
    config = RunConfig(model=ModelConfig("fixed-time"), benchmarks=("DocVQA_VAL",), output=folder / f"run{workers}",
                       environment=environment, data_file=data, batch_size=args.batch_size, progress=False,
                       prefetch_workers=workers)
    start = time.perf_counter()
    Runner(config, model_loader=lambda spec, options: model, score=False).run()
    return time.perf_counter() - start, model.model_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seconds-per-batch", type=float, default=1.0)
    parser.add_argument("--size", default="1700x2200", help="page size; 1100x2200 gives a full 18-tile grid")
    args = parser.parse_args()
    global SIZE
    SIZE = tuple(int(side) for side in args.size.split("x"))  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        data = folder / "docvqa.tsv"
        write_data(data, args.pages)
        one = Image.open(io.BytesIO(page(0)))
        start = time.perf_counter()
        tiles = pixel_values(one, max_tiles=18).shape[0]
        per_image = time.perf_counter() - start
        print(f"{args.pages} pages {args.size}, {tiles} tiles each, decode+tile ≈ {per_image * 1000:.0f} ms per page; "
              f"batch {args.batch_size}, model {args.seconds_per_batch:.2f} s per batch")
        print(f"{'prefetch workers':>16} {'wall s':>8} {'model s':>8} {'wall/model':>10}")
        for workers in (2, 0):
            wall, model = measure(folder, data, args, workers)
            print(f"{workers:>16} {wall:8.2f} {model:8.2f} {wall / model:10.3f}")


if __name__ == "__main__":
    main()
