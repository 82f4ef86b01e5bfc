"""InternVL 1.5 dynamic high resolution: worked from ``dynamic_preprocess`` (internvl/train/dataset.py@83c72bc)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from evalkit.tiling import (
    _normalize_by_lookup,
    candidate_grids,
    choose_grid,
    dynamic_tiles,
    normalize_tiles,
    pixel_values,
    uint8_tiles,
)


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


# --- pixel_values, uint8_tiles, normalize_tiles ---------------------------------------------------------------

MEAN = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float32).view(3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float32).view(3, 1, 1)


def to_tensor_normalize(tile: Image.Image) -> torch.Tensor:
    """torchvision's ToTensor then Normalize, written out: HWC bytes -> CHW float / 255, - mean, / std."""
    tensor = torch.from_numpy(np.array(tile, dtype=np.uint8)).permute(2, 0, 1).contiguous()
    return tensor.to(torch.float32).div(255).sub(MEAN).div(STD)


def reference_tiles(image: Image.Image, max_tiles: int, min_tiles: int = 1, tile_size: int = 448,
                    use_thumbnail: bool = True) -> list[Image.Image]:
    """InternVL's dynamic_preprocess, step by step: grid resize, row-major PIL crops, thumbnail last."""
    image = image.convert("RGB")
    cols, rows = choose_grid(image.width, image.height, max_tiles=max_tiles, min_tiles=min_tiles,
                             tile_size=tile_size)
    resized = image.resize((cols * tile_size, rows * tile_size), Image.Resampling.BICUBIC)
    tiles = [resized.crop((c * tile_size, r * tile_size, (c + 1) * tile_size, (r + 1) * tile_size))
             for r in range(rows) for c in range(cols)]
    if use_thumbnail and len(tiles) > 1:
        tiles.append(image.resize((tile_size, tile_size), Image.Resampling.BICUBIC))
    return tiles


def reference_pixel_values(image: Image.Image, **kwargs) -> torch.Tensor:
    return torch.stack([to_tensor_normalize(tile) for tile in reference_tiles(image, **kwargs)])


def noise(width: int, height: int, seed: int = 0, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).convert(mode)


PIXEL_CASES = [  # (width, height, kwargs, expected number of images)
    (500, 500, {"max_tiles": 6}, 1),  # one tile, no thumbnail
    (1, 1, {"max_tiles": 6}, 1),
    (448, 448, {"max_tiles": 1}, 1),  # the resize is the identity
    (896, 448, {"max_tiles": 6}, 3),
    (640, 480, {"max_tiles": 6}, 7),
    (800, 1300, {"max_tiles": 12}, 7),
    (1000, 1000, {"max_tiles": 6, "use_thumbnail": False}, 4),
    (300, 40, {"max_tiles": 40, "tile_size": 16}, 31),  # many small tiles: 30x1
    (45, 77, {"max_tiles": 40, "tile_size": 8}, 29),  # 4x7 (0.571 is the closest ratio to 0.584)
    (90, 60, {"max_tiles": 12, "min_tiles": 8, "tile_size": 28}, 13),
]


@pytest.mark.parametrize(("width", "height", "kwargs", "count"), PIXEL_CASES)
def test_pixel_values_equal_the_per_tile_reference(width, height, kwargs, count):
    image = noise(width, height, seed=width * 7 + height)
    values = pixel_values(image, **kwargs)
    size = kwargs.get("tile_size", 448)
    assert values.shape == (count, 3, size, size) and values.dtype == torch.float32 and values.is_contiguous()
    assert torch.equal(values, reference_pixel_values(image, **kwargs))


@pytest.mark.parametrize(("width", "height", "kwargs", "count"), PIXEL_CASES)
def test_normalize_tiles_of_uint8_tiles_is_pixel_values(width, height, kwargs, count):
    image = noise(width, height, seed=width + height)
    tiles = uint8_tiles(image, **kwargs)
    size = kwargs.get("tile_size", 448)
    assert tiles.shape == (count, 3, size, size) and tiles.dtype == torch.uint8
    expected = torch.stack([torch.from_numpy(np.array(t)).permute(2, 0, 1) for t in reference_tiles(image, **kwargs)])
    assert torch.equal(tiles, expected)
    values = pixel_values(image, **kwargs)
    assert torch.equal(normalize_tiles(tiles), values)
    assert torch.equal(_normalize_by_lookup(tiles, torch.float32), values)  # the path other devices take
    assert torch.equal(normalize_tiles(tiles, dtype=torch.bfloat16), values.to(torch.bfloat16))
    assert torch.equal(_normalize_by_lookup(tiles, torch.bfloat16), values.to(torch.bfloat16))


@pytest.mark.parametrize("mode", ["RGBA", "L", "P", "CMYK"])
def test_other_modes_are_converted_to_rgb_first(mode):
    image = noise(700, 500, seed=3, mode=mode)
    assert torch.equal(pixel_values(image, max_tiles=6), reference_pixel_values(image, max_tiles=6))


def test_pixel_values_match_dynamic_tiles():
    image = noise(900, 500, seed=5)
    tiles = dynamic_tiles(image, max_tiles=6)
    assert torch.equal(pixel_values(image, max_tiles=6), torch.stack([to_tensor_normalize(t) for t in tiles]))


@pytest.mark.parametrize(("colour", "expected"), [
    ((255, 0, 0), ((1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (0 - 0.406) / 0.225)),  # 2.2489, -2.0357, -1.8044
    ((255, 255, 255), ((1 - 0.485) / 0.229, (1 - 0.456) / 0.224, (1 - 0.406) / 0.225)),  # 2.2489, 2.4286, 2.64
    ((0, 0, 0), (-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225)),  # -2.1179, -2.0357, -1.8044
])
@pytest.mark.parametrize(("size", "max_tiles"), [((500, 500), 6), ((1000, 500), 6)])
def test_a_solid_colour_normalises_to_the_hand_computed_values(colour, expected, size, max_tiles):
    values = pixel_values(Image.new("RGB", size, colour), max_tiles=max_tiles)
    assert len(values) == (1 if size == (500, 500) else 3)  # 1 tile; or 2x1 tiles and the thumbnail
    for channel in range(3):
        plane = values[:, channel]
        assert torch.all(plane == plane.flatten()[0])
        assert plane.flatten()[0].item() == pytest.approx(expected[channel], rel=1e-6)
        # and exactly ToTensor's then Normalize's float32 rounding
        byte = torch.tensor(float(colour[channel]), dtype=torch.float32)
        assert plane.flatten()[0] == byte.div(255).sub(MEAN[channel, 0, 0]).div(STD[channel, 0, 0])


def test_every_byte_normalises_as_to_tensor_then_normalize():
    """All 256 values of every channel, through both paths: the division chain and the lookup table."""
    tiles = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16).expand(2, 3, 16, 16)  # strided, not contiguous
    expected = tiles.to(torch.float32).div(255).sub(MEAN).div(STD)
    assert torch.equal(normalize_tiles(tiles), expected)
    assert torch.equal(_normalize_by_lookup(tiles, torch.float32), expected)
    # a fused multiply-add with precomputed constants is not exact: the reason the division chain is kept
    fused = tiles.to(torch.float32) * (1 / (255 * STD)) + (-MEAN / STD)
    assert not torch.equal(fused, expected)


def test_normalize_tiles_takes_any_layout_and_leading_dims():
    tiles = uint8_tiles(noise(640, 480), max_tiles=6, tile_size=32)
    values = normalize_tiles(tiles)
    channels_last = tiles.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    assert torch.equal(normalize_tiles(channels_last), values)
    assert torch.equal(normalize_tiles(tiles[2]), values[2])
    assert torch.equal(normalize_tiles(tiles.view(7, 1, 3, 32, 32)), values.view(7, 1, 3, 32, 32))


def test_normalize_tiles_rejects_what_is_not_uint8_rgb_tiles():
    with pytest.raises(TypeError, match="uint8"):
        normalize_tiles(torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match="3, H, W"):
        normalize_tiles(torch.zeros(1, 4, 4, 4, dtype=torch.uint8))


SIZES = st.integers(min_value=1, max_value=3000)


@settings(max_examples=300, deadline=None)
@given(width=SIZES, height=SIZES, max_tiles=st.integers(min_value=1, max_value=40))
def test_the_grid_is_a_candidate_with_the_closest_ratio(width, height, max_tiles):
    cols, rows = choose_grid(width, height, max_tiles=max_tiles)
    assert (cols, rows) in candidate_grids(max_tiles)
    best = min(abs(width / height - c / r) for c, r in candidate_grids(max_tiles))
    assert abs(width / height - cols / rows) == best


@settings(max_examples=25, deadline=None)
@given(width=SIZES, height=SIZES, max_tiles=st.integers(min_value=1, max_value=40),
       tile_size=st.integers(min_value=1, max_value=6))
def test_the_tile_count_is_the_grid_plus_a_thumbnail(width, height, max_tiles, tile_size):
    cols, rows = choose_grid(width, height, max_tiles=max_tiles, tile_size=tile_size)
    assert (cols, rows) in candidate_grids(max_tiles)
    values = pixel_values(Image.new("RGB", (width, height), (10, 200, 30)), max_tiles=max_tiles,
                          tile_size=tile_size)
    assert values.shape == (cols * rows + (cols * rows > 1), 3, tile_size, tile_size)
