"""InternVL 1.5 dynamic high resolution (BENCHMARKS.md §5).

The grid is the (cols, rows) with ``min_tiles <= cols*rows <= max_tiles`` whose
aspect ratio is closest to the image's. Candidates are visited in ascending
tile count, ascending ``cols`` within a count; an exact tie replaces the best
only when the image area exceeds half the candidate grid's area (the paper's
"prefer the larger grid unless it more than doubles the image area"). No
rounding, no tolerance. The image is resized (bicubic) to the grid, cut into
row-major tiles, and a thumbnail of the whole image is appended last when there
is more than one tile.
"""

from __future__ import annotations

from PIL import Image

TILE_SIZE = 448


def candidate_grids(max_tiles: int, min_tiles: int = 1) -> list[tuple[int, int]]:
    """Every (cols, rows) with min_tiles <= cols*rows <= max_tiles, by tile count then cols."""
    grids = [(cols, rows) for count in range(min_tiles, max_tiles + 1)
             for cols in range(1, count + 1) for rows in range(1, count + 1) if cols * rows == count]
    return grids


def choose_grid(width: int, height: int, *, max_tiles: int, min_tiles: int = 1,
                tile_size: int = TILE_SIZE) -> tuple[int, int]:
    """InternVL's ``find_closest_aspect_ratio``: the (cols, rows) grid for a width x height image."""
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    if not 1 <= min_tiles <= max_tiles:
        raise ValueError(f"need 1 <= min_tiles <= max_tiles, got {min_tiles}, {max_tiles}")
    aspect = width / height
    area = width * height
    best, best_diff = (1, 1), float("inf")
    for cols, rows in candidate_grids(max_tiles, min_tiles):
        diff = abs(aspect - cols / rows)
        if diff < best_diff:
            best, best_diff = (cols, rows), diff
        elif diff == best_diff and area > 0.5 * tile_size * tile_size * cols * rows:
            best = (cols, rows)
    return best


def dynamic_tiles(image: Image.Image, *, max_tiles: int, min_tiles: int = 1, tile_size: int = TILE_SIZE,
                  use_thumbnail: bool = True) -> list[Image.Image]:
    """The tiles InternVL 1.5 feeds its vision encoder, row-major, thumbnail last (only with >1 tile)."""
    rgb = image.convert("RGB")
    cols, rows = choose_grid(rgb.width, rgb.height, max_tiles=max_tiles, min_tiles=min_tiles, tile_size=tile_size)
    resized = rgb.resize((tile_size * cols, tile_size * rows), Image.Resampling.BICUBIC)
    tiles = []
    for k in range(cols * rows):
        left, top = (k % cols) * tile_size, (k // cols) * tile_size
        tiles.append(resized.crop((left, top, left + tile_size, top + tile_size)))
    if use_thumbnail and len(tiles) > 1:
        tiles.append(rgb.resize((tile_size, tile_size), Image.Resampling.BICUBIC))
    return tiles
