"""Your own images as a data set (`data.path`): an `.npz` array or a folder of PNG/JPEG files.

- `images.npz`: an `x` array of N images, (N, H, W) or (N, D) with D a square number (N, 1, H, W)
  and (N, H, W, 1) are read as (N, H, W)), uint8 (divided by 255), bool, or float in [0, 1]; an
  optional `y` of N integer labels >= 0, and an optional `class_names` array of strings (label i's name).
- a folder: every `.png`, `.jpg` and `.jpeg` under it (sorted by path), converted to grayscale. If
  every image sits in a subfolder, the subfolder is its class (torchvision's ImageFolder layout:
  `cats/1.png`, `dogs/2.png`): labels and class names come from the sorted subfolder names.

All images are resized (bilinear, antialiased) to `image_size` if given, else (folders) to the first
image's size. Anything wrong is a `DataError` naming the file and the fix. `lightning_ae.data`
splits the result (seeded) into training, holdout and test images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from lightning_ae.idx import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
NPZ_HELP = "save it with np.savez(path, x=images, y=labels), images (N, H, W) uint8 or float in [0, 1]"


@dataclass
class Images:
    """A set of N images: pixels (N, H * W) float in [0, 1], labels (N,) int64 (-1: none), names of the labels."""

    x: Tensor
    y: Tensor
    shape: tuple[int, int]
    class_names: tuple[str, ...]

    @property
    def labelled(self) -> bool:
        return bool(len(self.y)) and int(self.y.min()) >= 0


def _size(image_size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    if image_size is None:
        return None
    return (int(image_size), int(image_size)) if isinstance(image_size, int) else (int(image_size[0]), int(image_size[1]))


def _resize(x: Tensor, size: tuple[int, int] | None) -> Tensor:
    """(N, H, W) float images at `size` (bilinear, antialiased), clamped to [0, 1]."""
    if size is None or tuple(x.shape[1:]) == size:
        return x
    return F.interpolate(x[:, None], size=size, mode="bilinear", antialias=True, align_corners=False)[:, 0].clamp_(0, 1)


def read_images(path: str | Path, image_size: int | tuple[int, int] | None = None) -> Images:
    """The images of an `.npz` file or an image folder (see the module's docstring)."""
    path = Path(path).expanduser()
    if path.is_dir():
        return read_folder(path, _size(image_size))
    if not path.is_file():
        raise DataError(f"{path}: no such file or folder; set data.path to an .npz file ({NPZ_HELP}) or a folder of "
                        "PNG/JPEG images.")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise DataError(f"{path}: data.path is a single image; put the images in a folder and set data.path to the folder.")
    return read_npz(path, _size(image_size))


def read_npz(path: Path, size: tuple[int, int] | None = None) -> Images:
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.keys())
            if "x" not in keys:
                raise DataError(f"{path}: has no `x` array (it holds {', '.join(keys) or 'nothing'}); {NPZ_HELP}.")
            x = archive["x"]
            y = archive["y"] if "y" in keys else None
            names = archive["class_names"] if "class_names" in keys else None
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 (numpy raises many kinds for a file that is not an .npz)
        raise DataError(f"{path}: cannot be read as an .npz file ({type(e).__name__}: {e}); {NPZ_HELP}.") from e
    images = _pixels(path, x)
    labels = _labels(path, y, len(images))
    class_names = tuple(str(n) for n in names.reshape(-1)) if names is not None else ()
    return _finish(images, labels, class_names, size)


def _pixels(path: Path, x: np.ndarray) -> Tensor:
    """`x` as float (N, H, W) in [0, 1], or a DataError that says what is wrong with it."""
    shape = x.shape
    if x.ndim == 4 and 1 in (shape[1], shape[3]):  # one channel first or last
        x = x.reshape(shape[0], *(shape[2:] if shape[1] == 1 else shape[1:3]))
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1] or side == 0:
            raise DataError(f"{path}: x has shape {shape}, {x.shape[1]} pixels per image, not a square; save the "
                            "images as (N, H, W).")
        x = x.reshape(len(x), side, side)
    if x.ndim != 3 or 0 in x.shape[1:]:
        raise DataError(f"{path}: x has shape {shape}; expected N grayscale images, (N, H, W) or (N, H * W) "
                        "(convert colour images to grayscale).")
    if x.dtype == np.uint8 or x.dtype == np.bool_:
        return torch.from_numpy(x.astype(np.float32) / (255.0 if x.dtype == np.uint8 else 1.0))
    if not np.issubdtype(x.dtype, np.floating):
        raise DataError(f"{path}: x has dtype {x.dtype}; save uint8 pixels (0-255) or floats in [0, 1].")
    if not np.isfinite(x).all():
        raise DataError(f"{path}: x holds {int((~np.isfinite(x)).sum())} NaN or infinite values; replace them "
                        "with pixels in [0, 1].")
    low, high = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    if low < 0 or high > 1:
        raise DataError(f"{path}: x has values from {low:g} to {high:g}, outside [0, 1]; scale the pixels to [0, 1] "
                        "(e.g. divide 0-255 values by 255).")
    return torch.from_numpy(x.astype(np.float32))


def _labels(path: Path, y: np.ndarray | None, n: int) -> Tensor:
    if y is None:
        return torch.full((n,), -1, dtype=torch.long)
    if y.shape != (n,) or not (np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_):
        raise DataError(f"{path}: y has shape {y.shape} and dtype {y.dtype}; expected {n} integer labels, one per "
                        "image of x (or leave y out).")
    if n and int(y.min()) < 0:
        raise DataError(f"{path}: y has negative labels ({int(y.min())}); number the classes 0, 1, 2, ...")
    return torch.from_numpy(y.astype(np.int64))


def read_folder(folder: Path, size: tuple[int, int] | None = None) -> Images:
    from PIL import Image, UnidentifiedImageError

    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{folder}: holds no .png, .jpg or .jpeg image; put the images there, or set data.path to an "
                        ".npz file.")
    parts = [p.relative_to(folder).parts for p in files]
    grouped = all(len(p) > 1 for p in parts)
    class_names = tuple(sorted({p[0] for p in parts})) if grouped else ()
    index = {name: i for i, name in enumerate(class_names)}
    pixels = []
    for p in files:
        try:
            with Image.open(p) as image:
                gray = image.convert("L")
                if size is None:
                    size = (gray.height, gray.width)
                if (gray.height, gray.width) != size:
                    gray = gray.resize((size[1], size[0]), Image.Resampling.BILINEAR)
                pixels.append(torch.from_numpy(np.asarray(gray, dtype=np.uint8).copy()))
        except (OSError, UnidentifiedImageError, ValueError) as e:
            raise DataError(f"{p}: cannot be read as an image ({type(e).__name__}: {e}); delete or replace it.") from e
    x = torch.stack(pixels).float().div_(255.0)
    y = torch.tensor([index[p[0]] for p in parts]) if grouped else torch.full((len(files),), -1, dtype=torch.long)
    return _finish(x, y, class_names, None)


def _finish(x: Tensor, y: Tensor, class_names: tuple[str, ...], size: tuple[int, int] | None) -> Images:
    x = _resize(x, size)
    if not class_names and len(y) and int(y.min()) >= 0:
        class_names = tuple(str(i) for i in range(int(y.max()) + 1))
    return Images(x.flatten(1).contiguous(), y, (int(x.shape[1]), int(x.shape[2])), class_names)
