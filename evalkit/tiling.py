"""InternVL 1.5 dynamic high resolution (``internvl/train/dataset.py@83c72bc`` ``dynamic_preprocess``).

The grid is the (cols, rows) with ``min_tiles <= cols*rows <= max_tiles`` whose
aspect ratio is closest to the image's. Candidates are visited in ascending
tile count, ascending ``cols`` within a count; an exact tie replaces the best
only when the image area exceeds half the candidate grid's area (the paper's
"prefer the larger grid unless it more than doubles the image area"). No
rounding, no tolerance. The image is resized (bicubic) to the grid, cut into
row-major tiles, and a thumbnail of the whole image is appended last when there
is more than one tile.

:func:`pixel_values` gives the same tiles as the float32 tensor InternVL feeds its
vision encoder (per tile: ToTensor, then Normalize with the ImageNet mean and
std), bit for bit. It does the two bicubic resizes every exact implementation
must do and little else: the resized grid is read once, one colour plane at a
time (Pillow unpacks a band in C, far faster than a stride-3 read of RGB bytes);
the tiles are strided views of those planes (no per-tile crop or conversion);
and each tile's plane is written straight into its slot of the output and
normalised there while it is still in cache. The arithmetic is ToTensor's and
Normalize's, in their order and in float32: ``((x / 255) - mean) / std``. A fused
``x * scale + shift`` differs from it in the last bit for most of the 256 byte
values, so it is not used.

:func:`uint8_tiles` stops before the normalisation (4x fewer bytes, e.g. to move
to an accelerator) and :func:`normalize_tiles` finishes it on any device, with
``normalize_tiles(uint8_tiles(im)) == pixel_values(im)`` exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from PIL import Image

TILE_SIZE = 448
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_MEAN32 = np.array(IMAGENET_MEAN, dtype=np.float32)
_STD32 = np.array(IMAGENET_STD, dtype=np.float32)
_F255 = np.float32(255)

Array = np.ndarray[Any, Any]


def _normalise_plane(src: Array, out: Array, channel: int) -> None:
    """``out = ((src / 255) - mean[channel]) / std[channel]`` in float32, one [H, W] plane at a time.

    ``src`` is uint8 [..., H, W] with any strides (a tile's view into a whole image's plane
    is fine); ``out`` is float32 of the same shape. Going plane by plane keeps each plane in
    cache for the four passes (widen, / 255, - mean, / std); the planes are indexed, never
    reshaped, as merging a strided view's axes would copy it.
    """
    mean, std = _MEAN32[channel], _STD32[channel]
    for index in np.ndindex(src.shape[:-2]):
        dst = out[index]
        np.copyto(dst, src[index])  # exact; cheaper than a divide that casts its uint8 input through a buffer
        np.divide(dst, _F255, out=dst)
        np.subtract(dst, mean, out=dst)
        np.divide(dst, std, out=dst)


def _lookup_table() -> Array:
    """[3, 256] float32: the normalised value of every byte in every channel."""
    table = np.empty((3, 256), dtype=np.float32)
    for channel in range(3):
        _normalise_plane(np.arange(256, dtype=np.uint8).reshape(1, 256), table[channel:channel + 1], channel)
    return table


_LOOKUP = _lookup_table()


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


def _rgb(image: Image.Image) -> Image.Image:
    """``image.convert("RGB")`` without the copy that ``convert`` makes of an image already in RGB."""
    return image if image.mode == "RGB" else image.convert("RGB")


def _resize_to_grid(image: Image.Image, *, max_tiles: int, min_tiles: int, tile_size: int,
                    use_thumbnail: bool) -> tuple[Image.Image, int, int, Image.Image | None]:
    """The two bicubic resizes: (grid image, cols, rows, thumbnail or None)."""
    rgb = _rgb(image)
    cols, rows = choose_grid(rgb.width, rgb.height, max_tiles=max_tiles, min_tiles=min_tiles, tile_size=tile_size)
    resized = rgb.resize((tile_size * cols, tile_size * rows), Image.Resampling.BICUBIC)
    thumbnail = None
    if use_thumbnail and cols * rows > 1:
        thumbnail = rgb.resize((tile_size, tile_size), Image.Resampling.BICUBIC)
    return resized, cols, rows, thumbnail


def dynamic_tiles(image: Image.Image, *, max_tiles: int, min_tiles: int = 1, tile_size: int = TILE_SIZE,
                  use_thumbnail: bool = True) -> list[Image.Image]:
    """The tiles InternVL 1.5 feeds its vision encoder, row-major, thumbnail last (only with >1 tile)."""
    resized, cols, rows, thumbnail = _resize_to_grid(image, max_tiles=max_tiles, min_tiles=min_tiles,
                                                     tile_size=tile_size, use_thumbnail=use_thumbnail)
    tiles = []
    for k in range(cols * rows):
        left, top = (k % cols) * tile_size, (k // cols) * tile_size
        tiles.append(resized.crop((left, top, left + tile_size, top + tile_size)))
    if thumbnail is not None:
        tiles.append(thumbnail)
    return tiles


def _planes(image: Image.Image) -> list[Array]:
    """The R, G and B planes of an RGB image, each a read-only contiguous uint8 [H, W] array."""
    return [np.frombuffer(image.tobytes("raw", band), dtype=np.uint8).reshape(image.height, image.width)
            for band in "RGB"]


def _tile_planes(image: Image.Image, *, max_tiles: int, min_tiles: int, tile_size: int, use_thumbnail: bool
                 ) -> tuple[int, int, list[Array], list[Array] | None]:
    """(cols, rows, per-channel tile views [rows, cols, S, S] of the resized grid, the thumbnail's planes or None).

    The views are strided windows on the grid's planes: no copy per tile.
    """
    resized, cols, rows, thumbnail = _resize_to_grid(image, max_tiles=max_tiles, min_tiles=min_tiles,
                                                     tile_size=tile_size, use_thumbnail=use_thumbnail)
    grid = [plane.reshape(rows, tile_size, cols, tile_size).transpose(0, 2, 1, 3) for plane in _planes(resized)]
    return cols, rows, grid, None if thumbnail is None else _planes(thumbnail)


def uint8_tiles(image: Image.Image, *, max_tiles: int, min_tiles: int = 1, tile_size: int = TILE_SIZE,
                use_thumbnail: bool = True) -> torch.Tensor:
    """The tiles of :func:`dynamic_tiles` as one uint8 tensor [N, 3, tile_size, tile_size], before normalisation.

    Pass it (moved to any device first, if wanted) to :func:`normalize_tiles` to get :func:`pixel_values`.
    """
    cols, rows, grid, thumbnail = _tile_planes(image, max_tiles=max_tiles, min_tiles=min_tiles,
                                               tile_size=tile_size, use_thumbnail=use_thumbnail)
    out = np.empty((cols * rows + (thumbnail is not None), 3, tile_size, tile_size), dtype=np.uint8)
    out_grid = out[:cols * rows].reshape(rows, cols, 3, tile_size, tile_size)
    for channel in range(3):
        out_grid[:, :, channel] = grid[channel]
        if thumbnail is not None:
            out[-1, channel] = thumbnail[channel]
    return torch.from_numpy(out)


def pixel_values(image: Image.Image, *, max_tiles: int, min_tiles: int = 1, tile_size: int = TILE_SIZE,
                 use_thumbnail: bool = True) -> torch.Tensor:
    """What InternVL 1.5 feeds its vision encoder: float32 [N, 3, tile_size, tile_size], tiles as :func:`dynamic_tiles`.

    Each tile is scaled to [0, 1] and normalised with the ImageNet mean and std, with the values
    torchvision's ``ToTensor`` then ``Normalize`` give, bit for bit.
    """
    cols, rows, grid, thumbnail = _tile_planes(image, max_tiles=max_tiles, min_tiles=min_tiles,
                                               tile_size=tile_size, use_thumbnail=use_thumbnail)
    out = np.empty((cols * rows + (thumbnail is not None), 3, tile_size, tile_size), dtype=np.float32)
    out_grid = out[:cols * rows].reshape(rows, cols, 3, tile_size, tile_size)
    for channel in range(3):
        _normalise_plane(grid[channel], out_grid[:, :, channel], channel)
        if thumbnail is not None:
            _normalise_plane(thumbnail[channel], out[-1, channel], channel)
    return torch.from_numpy(out)


def normalize_tiles(tiles: torch.Tensor, *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """ToTensor's scaling and the ImageNet Normalize of uint8 tiles [..., 3, H, W], on the tiles' device.

    The values are those of the float32 computation (converted to ``dtype`` after, as InternVL does
    with ``.to(torch.bfloat16)``), on every device: on the CPU by the same float32 arithmetic as
    :func:`pixel_values`; elsewhere by looking each byte up in a 3 x 256 table computed on the CPU,
    so that no device-specific arithmetic (a multiply by a reciprocal, a fused multiply-add) can
    change the last bit.
    """
    if tiles.dtype != torch.uint8:
        raise TypeError(f"normalize_tiles needs uint8 tiles, got {tiles.dtype}")
    if tiles.dim() < 3 or tiles.shape[-3] != 3:
        raise ValueError(f"normalize_tiles needs tiles shaped [..., 3, H, W], got {list(tiles.shape)}")
    if tiles.device.type != "cpu":
        return _normalize_by_lookup(tiles, dtype)
    src = tiles.numpy()
    out = np.empty(src.shape, dtype=np.float32)
    for channel in range(3):
        _normalise_plane(src[..., channel, :, :], out[..., channel, :, :], channel)
    return torch.from_numpy(out).to(dtype)


def _normalize_by_lookup(tiles: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """:func:`normalize_tiles` as a gather from the byte table, on the tiles' device."""
    table = torch.from_numpy(_LOOKUP).to(device=tiles.device, dtype=dtype).reshape(-1)
    offsets = torch.tensor([0, 256, 512], dtype=torch.int32, device=tiles.device).reshape(3, 1, 1)
    index = tiles.to(torch.int32).add_(offsets)
    return table.index_select(0, index.reshape(-1)).reshape(tiles.shape)
