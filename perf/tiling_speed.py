"""Wall time of InternVL 1.5 tiling: ``evalkit.tiling.pixel_values`` against the floor and a straightforward version.

Not a test; run by hand. For a few image shapes (a DocVQA-like page, an InfoVQA-like tall infographic, a photo)
it times, interleaved in one process and reporting the median of ``--reps`` repetitions:

- **floor**: only the two bicubic resizes any bit-exact implementation has to do (the image to the grid, and the
  thumbnail when there is more than one tile). Nothing is converted or normalised.
- **pixel_values**: evalkit's tensor of normalised tiles.
- **uint8_tiles**: evalkit's un-normalised uint8 tiles (what one would move to an accelerator).
- **straightforward**: what VLMEvalKit's copy of InternVL's code does: crop each tile with PIL, then per tile
  ToTensor and Normalize (written out here, as torchvision has no CPU build in this environment), then stack.

Before timing it checks that pixel_values and the straightforward version give equal tensors (``torch.equal``),
then prints a Markdown table with the ratios to the floor.

pixel_values and uint8_tiles use numpy and Pillow only (one thread), so ``--torch-threads`` only changes the
straightforward version.

    python perf/tiling_speed.py [--reps 15] [--seed 0] [--torch-threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from PIL import Image

from evalkit.tiling import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    TILE_SIZE,
    choose_grid,
    normalize_tiles,
    pixel_values,
    uint8_tiles,
)

BICUBIC = Image.Resampling.BICUBIC


@dataclass(frozen=True)
class Case:
    name: str
    width: int
    height: int
    max_tiles: int


CASES = [
    Case("DocVQA page (max 18)", 1700, 2200, 18),
    Case("narrow page (max 18)", 1100, 2200, 18),
    Case("InfoVQA tall (max 24)", 1200, 3200, 24),
    Case("photo (max 6)", 640, 480, 6),
]


def make_image(width: int, height: int, rng: np.random.Generator) -> Image.Image:
    """A page-like RGB image: off-white paper, dark "text lines" of random lengths, a coloured figure, mild noise."""
    page = np.full((height, width, 3), 246, dtype=np.uint8)
    line = 28
    for top in range(40, height - 40, line):
        length = int(rng.integers(width // 4, width - 80))
        page[top:top + line // 2, 40:40 + length] = rng.integers(0, 90, (line // 2, length, 3), dtype=np.uint8)
    fh, fw = height // 4, width // 2
    page[height // 2:height // 2 + fh, width // 4:width // 4 + fw] = rng.integers(0, 256, (1, 1, 3), dtype=np.uint8)
    noise = rng.integers(0, 8, page.shape, dtype=np.uint8)
    return Image.fromarray(np.minimum(page.astype(np.uint16) + noise, 255).astype(np.uint8))


def floor(image: Image.Image, max_tiles: int) -> tuple[Image.Image, Image.Image | None]:
    """The two resizes and nothing else."""
    cols, rows = choose_grid(image.width, image.height, max_tiles=max_tiles)
    grid = image.resize((TILE_SIZE * cols, TILE_SIZE * rows), BICUBIC)
    thumbnail = image.resize((TILE_SIZE, TILE_SIZE), BICUBIC) if cols * rows > 1 else None
    return grid, thumbnail


def straightforward(image: Image.Image, max_tiles: int) -> torch.Tensor:
    """InternVL's ``dynamic_preprocess`` + ``build_transform`` per tile, as VLMEvalKit carries them."""
    image = image.convert("RGB") if image.mode != "RGB" else image
    cols, rows = choose_grid(image.width, image.height, max_tiles=max_tiles)
    resized = image.resize((TILE_SIZE * cols, TILE_SIZE * rows))  # Pillow's default filter for RGB: bicubic
    tiles = []
    for k in range(cols * rows):
        box = ((k % cols) * TILE_SIZE, (k // cols) * TILE_SIZE,
               (k % cols + 1) * TILE_SIZE, (k // cols + 1) * TILE_SIZE)
        tiles.append(resized.crop(box))
    if len(tiles) > 1:
        tiles.append(image.resize((TILE_SIZE, TILE_SIZE)))
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32).view(-1, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float32).view(-1, 1, 1)
    tensors = []
    for tile in tiles:
        tile = tile.convert("RGB") if tile.mode != "RGB" else tile
        if tile.size != (TILE_SIZE, TILE_SIZE):  # T.Resize((448, 448)): a no-op on a tile
            tile = tile.resize((TILE_SIZE, TILE_SIZE), BICUBIC)
        # T.ToTensor: HWC bytes -> CHW float in [0, 1]
        array = np.array(tile, dtype=np.uint8, copy=True)
        tensor = torch.from_numpy(array).view(tile.height, tile.width, 3).permute(2, 0, 1).contiguous()
        tensor = tensor.to(dtype=torch.float32).div(255)
        # T.Normalize (inplace=False): clone, subtract the mean, divide by the std
        tensor = tensor.clone().sub_(mean).div_(std)
        tensors.append(tensor)
    return torch.stack(tensors)


def time_interleaved(methods: dict[str, Callable[[], object]], reps: int) -> dict[str, float]:
    """Median wall seconds of each method, running them round-robin so drifts in machine load hit all alike."""
    samples: dict[str, list[float]] = {name: [] for name in methods}
    for fn in methods.values():  # warm-up: allocator, lazy imports
        fn()
    for _ in range(reps):
        for name, fn in methods.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch intra-op threads (default 1: on a busy 2-core machine two threads make the "
                             "straightforward version's small per-tile ops stall for a scheduler slice each)")
    args = parser.parse_args()
    torch.set_num_threads(args.torch_threads)
    rng = np.random.default_rng(args.seed)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {args.reps} interleaved reps\n")
    print("| image | grid | tiles | floor ms | pixel_values ms (× floor) | uint8_tiles ms (× floor) "
          "| straightforward ms (× floor) | straightforward / pixel_values |")
    print("|---|---|---|---|---|---|---|---|")
    for case in CASES:
        image = make_image(case.width, case.height, rng)
        cols, rows = choose_grid(case.width, case.height, max_tiles=case.max_tiles)
        ours, theirs = pixel_values(image, max_tiles=case.max_tiles), straightforward(image, case.max_tiles)
        if not torch.equal(ours, theirs):
            raise SystemExit(f"{case.name}: pixel_values differs from the straightforward version")
        if not torch.equal(normalize_tiles(uint8_tiles(image, max_tiles=case.max_tiles)), ours):
            raise SystemExit(f"{case.name}: normalize_tiles(uint8_tiles) differs from pixel_values")
        median = time_interleaved({
            "floor": partial(floor, image, case.max_tiles),
            "pixel_values": partial(pixel_values, image, max_tiles=case.max_tiles),
            "uint8_tiles": partial(uint8_tiles, image, max_tiles=case.max_tiles),
            "straightforward": partial(straightforward, image, case.max_tiles),
        }, args.reps)
        base = median["floor"]
        cells = [f"{median[name] * 1e3:.1f} ({median[name] / base:.2f}×)"
                 for name in ("pixel_values", "uint8_tiles", "straightforward")]
        print(f"| {case.name}, {case.width}×{case.height} | {cols}×{rows} | {len(ours)} | {base * 1e3:.1f} | "
              + " | ".join(cells) + f" | {median['straightforward'] / median['pixel_values']:.2f}× |")
    print("\nall outputs equal (torch.equal): pixel_values == straightforward == normalize_tiles(uint8_tiles)")


if __name__ == "__main__":
    main()
