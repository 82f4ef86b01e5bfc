"""InternVL 1.5 dynamic high resolution: BENCHMARKS.md §5's table, worked from the definition."""

from __future__ import annotations

import pytest
from PIL import Image

from evalkit.tiling import candidate_grids, choose_grid, dynamic_tiles


@pytest.mark.parametrize(("max_tiles", "count"), [(6, 14), (12, 35), (18, 58), (24, 84), (40, 158)])
def test_candidate_counts(max_tiles, count):
    assert len(candidate_grids(max_tiles)) == count


@pytest.mark.parametrize(("width", "height", "max_tiles", "grid"), [
    (800, 1300, 12, (2, 3)), (1000, 1000, 6, (2, 2)), (1000, 1000, 12, (3, 3)), (500, 500, 6, (1, 1)),
    (640, 480, 6, (3, 2)), (1120, 896, 6, (3, 2)), (560, 448, 6, (1, 1)), (1654, 2339, 24, (4, 6)),
    (1700, 2200, 18, (3, 4)), (3000, 200, 24, (15, 1)),
])
def test_grid_table(width, height, max_tiles, grid):
    assert choose_grid(width, height, max_tiles=max_tiles) == grid


def test_tiles_are_row_major_with_the_thumbnail_last():
    image = Image.new("RGB", (896, 448))
    for x in range(896):
        for y in range(448):
            image.putpixel((x, y), (255, 0, 0) if x < 448 else (0, 0, 255))
    tiles = dynamic_tiles(image, max_tiles=6)
    assert choose_grid(896, 448, max_tiles=6) == (2, 1)
    assert len(tiles) == 3 and all(tile.size == (448, 448) for tile in tiles)
    assert tiles[0].getpixel((224, 224)) == (255, 0, 0) and tiles[1].getpixel((224, 224)) == (0, 0, 255)
    assert tiles[2].getpixel((100, 224)) == (255, 0, 0) and tiles[2].getpixel((350, 224)) == (0, 0, 255)


def test_a_single_tile_has_no_thumbnail():
    assert len(dynamic_tiles(Image.new("RGB", (500, 500)), max_tiles=6)) == 1


def test_bad_sizes_are_rejected():
    with pytest.raises(ValueError, match="positive"):
        choose_grid(0, 10, max_tiles=6)
