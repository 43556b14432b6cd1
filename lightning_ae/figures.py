"""Pictures of the classic posts, drawn to be read at TensorBoard's default size.

TensorBoard's image cards are about `WIDTH` = 350 pixels wide and shrink anything wider, so every
picture is a matplotlib figure `WIDTH` pixels wide (drawn at `DPI`): digits at `SCALE` = 2 screen
pixels per image pixel (nearest neighbour, never blurred), lines wrapped so that a row of digits fits,
rows labelled on the left ("original", "PCA, k components", the model), a title, axis labels and a
legend per digit on the scatter plots. The same figures are written as PNG files at test end.
"""

from __future__ import annotations

import json
import math
import textwrap
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: figures go to TensorBoard and PNG files
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.textpath import TextPath  # noqa: E402
from torch import Tensor  # noqa: E402
from torchvision.utils import make_grid, save_image  # noqa: E402

WIDTH = 350  # pixels: the width of an image card in TensorBoard's IMAGES dashboard
HEIGHT = 230  # pixels: about the height of the image area of a TIME SERIES card (~390 x 210)
DPI = 100
SCALE = 2  # screen pixels per image pixel
PAD = 1  # image pixels between digits (2 screen pixels)
FONT = 9  # points (12.5 pixels at DPI 100)
SMALL = 8  # points: captions, axis labels, legend
CHAR_PX = 7.2  # average width of a character of the bold title font, pixels
LINE_PX = 15  # height of a line of title text, pixels
CAPTION = 7  # image pixels above a row for its caption (14 screen pixels)
MARGIN = 4  # pixels around the picture
DIGIT_COLORS = plt.get_cmap("tab10")


def hw(side: int | tuple[int, int]) -> tuple[int, int]:
    """(H, W) of images given as one side (a square) or as (H, W)."""
    return (int(side), int(side)) if isinstance(side, int) else (int(side[0]), int(side[1]))


def digit_grid(rows: list[Tensor], side: int | tuple[int, int] = 28) -> Tensor:
    """Stack rows of flattened images (each (n, H*W); `side`: H = W, or (H, W)) into one (3, H, W) grid, one row each."""
    n = rows[0].shape[0]
    images = torch.cat([r.detach().float().cpu().clamp(0, 1).reshape(-1, 1, *hw(side)) for r in rows])
    return make_grid(images, nrow=n, padding=2, pad_value=0.5)


@lru_cache(maxsize=1024)  # the same class names are measured for every scatter of a run
def text_px(text: str, size: float = FONT) -> float:
    """Width in pixels of the widest line of `text` in the figures' font at `size` points."""
    return max((TextPath((0, 0), line, size=size * DPI / 72).get_extents().width for line in text.split("\n") if line),
               default=0.0)


def short_name(name: str, width: int = 12) -> str:
    """A class name on lines of at most about `width` characters: 'VariationalAutoencoder' -> 'Variational\\nAutoencoder'."""
    if len(name) <= width or not name.endswith("Autoencoder") or name == "Autoencoder":
        return name
    return name[: -len("Autoencoder")] + "\nAutoencoder"


def title_lines(title: str | None, width_px: int) -> list[str]:
    if not title:
        return []
    chars = max(10, int(width_px / CHAR_PX))
    return [line for part in title.split("\n") for line in textwrap.wrap(part, chars) or [""]]


def _layout(n: int, rows: int, per_line: int, side: tuple[int, int], above: int, gap: int) -> tuple[int, int, list[int]]:
    """(height, width, top of every line) of a canvas of `rows` rows of n images wrapped every
    `per_line`: block b holds images [b * per_line, (b + 1) * per_line) of every row, in row order;
    `above` blank pixels over each line (its caption), `gap` more between blocks. Native pixels."""
    (height, width), blocks = side, math.ceil(n / per_line)
    cell = height + PAD
    tops, top = [], PAD
    for b in range(blocks):
        for _ in range(rows):
            tops.append(top + above)
            top += above + cell
        top += gap
    return top - gap, per_line * (width + PAD) + PAD, tops


def labelled_grid(rows: list[Tensor], captions: list[str] | None = None, title: str | None = None,
                  per_line: int | None = None, side: int | tuple[int, int] = 28, scale: int = SCALE,
                  width: int = WIDTH) -> Figure:
    """Rows of images (each (n, H*W), pixels in [0, 1]; `side`: H = W, or (H, W)) at `scale` screen pixels per pixel,
    each row under its caption ("original", "PCA, 2 components", ...).

    A row's n images are wrapped every `per_line` images (default: as many as fit in `width`
    pixels), so the figure fits a TensorBoard image card and the digits keep their size; each block
    of wrapped lines repeats the captions. The canvas is the image of the figure's first axes (`scale`
    times the native pixels); `cell(fig, row, i)` reads an image back.
    """
    side_h, side_w = side = hw(side)
    arrays = [r.detach().float().cpu().clamp(0, 1).reshape(-1, side_h, side_w).numpy() for r in rows]
    n = arrays[0].shape[0]
    fit = max(1, (width // scale - PAD) // (side_w + PAD))
    per_line = min(n, per_line or fit)
    per_line = math.ceil(n / math.ceil(n / per_line))  # even blocks: 10 images in lines of 5, not 6 + 4
    above = CAPTION if captions else 0
    h, w, tops = _layout(n, len(arrays), per_line, side, above, gap=4 if len(arrays) > 1 else 0)
    canvas = np.ones((h, w), dtype=np.float32)
    for line, top in enumerate(tops):
        block, r = divmod(line, len(arrays))
        for j, image in enumerate(arrays[r][block * per_line : (block + 1) * per_line]):
            left = PAD + j * (side_w + PAD)
            canvas[top : top + side_h, left : left + side_w] = image
    canvas = canvas.repeat(scale, 0).repeat(scale, 1)
    fig_w = max(width, w * scale)
    heading = title_lines(title, fig_w - 2 * MARGIN)
    title_px = len(heading) * LINE_PX + (2 if heading else 0)
    fig_h = h * scale + title_px
    fig = plt.figure(figsize=(fig_w / DPI, fig_h / DPI), dpi=DPI)
    left = (fig_w - w * scale) // 2
    ax = fig.add_axes((left / fig_w, 0, w * scale / fig_w, h * scale / fig_h))
    ax.imshow(canvas, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest", aspect="equal")
    ax.set_axis_off()
    ax.set_label(json.dumps({"rows": len(arrays), "per_line": per_line, "side": list(side), "scale": scale, "tops": tops}))
    if captions:
        for line, top in enumerate(tops):
            y = fig_h - title_px - (top - above / 2) * scale
            fig.text((left + PAD * scale) / fig_w, y / fig_h, captions[line % len(captions)], ha="left",
                     va="center", fontsize=SMALL)
    if heading:
        fig.text(0.5, 1 - 1 / fig_h, "\n".join(heading), ha="center", va="top", fontsize=FONT,
                 linespacing=1.1, fontweight="bold")
    return fig


def cell(fig: Figure, row: int, index: int) -> np.ndarray:
    """Image `index` of row `row` of a `labelled_grid` figure, as native pixels (H, W)."""
    ax = fig.axes[0]
    layout = json.loads(ax.get_label())
    (h, w), scale, per_line, rows = hw(layout["side"]), layout["scale"], layout["per_line"], layout["rows"]
    block, j = divmod(index, per_line)
    top, left = layout["tops"][block * rows + row], PAD + j * (w + PAD)
    pixels = np.asarray(ax.images[0].get_array())[::scale, ::scale]
    return pixels[top : top + h, left : left + w]


def to_plane(z: Tensor) -> tuple[np.ndarray, str, str, str]:
    """Codes (N, d) as 2-D points and how: (points (N, 2), x label, y label, what was done).

    d = 2: the codes themselves; d > 2: their first two principal components (PCA of these codes);
    d = 1: the code against a jittered zero line.
    """
    z = z.detach().float().cpu()
    d = z.shape[1]
    if d == 2:
        return z.numpy(), "z1", "z2", "2-D codes"
    if d == 1:
        jitter = torch.randn(len(z), generator=torch.Generator().manual_seed(0)) * 0.05
        return torch.stack([z[:, 0], jitter], 1).numpy(), "z1", "(jitter)", "1-D codes"
    centred = z - z.mean(0)
    _, _, v = torch.linalg.svd(centred, full_matrices=False)
    return (centred @ v[:2].T).numpy(), "PC 1", "PC 2", f"{d}-D codes, first 2 principal components"


def scatter_figure(panels: list[tuple[str, np.ndarray, np.ndarray, str, str]], title: str | None = None,
                   width: int = WIDTH, plot_px: int = 160, class_names: tuple[str, ...] | list[str] | None = None,
                   legend_title: str = "digit") -> Figure:
    """Scatter plots of 2-D points coloured by class with a legend per class: one panel per (name,
    points (N, 2), labels (N,), x label, y label), `width` pixels each, side by side, under `title`
    (one panel: about 350 x 230 pixels, the size of a TensorBoard card). The legend names label i
    `class_names[i]` (default: the number; `legend_title` above it); labels < 0 (no label) are grey,
    without a legend."""
    names_of = list(class_names or [])
    found = sorted({int(d) for _, _, labels, *_ in panels for d in np.unique(np.asarray(labels)) if d >= 0})
    shown = [names_of[d] if d < len(names_of) else str(d) for d in found]
    colors = DIGIT_COLORS if max(found, default=0) < 10 else plt.get_cmap("tab20" if max(found) < 20 else "hsv", max(found) + 1)
    left, bottom = 42, 30
    legend = int(max(44, max((text_px(n, SMALL - 1) for n in shown), default=0) + 30))
    plot_w = width - left - legend
    heading = title_lines(title, width * len(panels) - 2 * MARGIN)
    title_px = len(heading) * LINE_PX + (2 if heading else 0)
    names = [title_lines(name, plot_w + legend // 2) for name, *_ in panels]
    name_px = max(len(n) for n in names) * 13 + 4
    height = title_px + name_px + plot_px + bottom
    fig_w = width * len(panels)
    fig = plt.figure(figsize=(fig_w / DPI, height / DPI), dpi=DPI)
    if heading:
        fig.text(0.5, 1 - 1 / height, "\n".join(heading), ha="center", va="top", fontsize=FONT,
                 fontweight="bold", linespacing=1.1)
    for i, ((_, points, digits, xlabel, ylabel), name) in enumerate(zip(panels, names)):
        ax = fig.add_axes(((i * width + left) / fig_w, bottom / height, plot_w / fig_w, plot_px / height))
        points, digits = np.asarray(points), np.asarray(digits)
        if (digits < 0).any():
            ax.scatter(points[digits < 0, 0], points[digits < 0, 1], s=2, color="0.4", alpha=0.7, linewidths=0,
                       rasterized=True)
        for d, label in zip(found, shown):
            mask = digits == d
            if mask.any():
                ax.scatter(points[mask, 0], points[mask, 1], s=2, color=colors(d), label=label,
                           alpha=0.7, linewidths=0, rasterized=True)
        ax.set_title("\n".join(name), fontsize=SMALL + 0.5, pad=3, linespacing=1.0)
        ax.set_xlabel(xlabel, fontsize=SMALL, labelpad=1)
        ax.set_ylabel(ylabel, fontsize=SMALL, labelpad=1)
        ax.tick_params(labelsize=SMALL - 1, length=2, pad=1)
        if found:
            ax.legend(title=legend_title, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
                      fontsize=SMALL - 1, title_fontsize=SMALL - 1, markerscale=3, handletextpad=0.0,
                      borderaxespad=0.2, labelspacing=0.05, handlelength=1.2)
    return fig


def save(picture: Tensor | Figure, path: str | Path) -> Path:
    """Write an image tensor (C, H, W) or a matplotlib figure (at its own size) to a PNG file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(picture, Figure):
        picture.savefig(path, dpi=picture.dpi)
    else:
        save_image(picture, path)
    return path


def upsample(image: Tensor, scale: int = SCALE) -> Tensor:
    """An image tensor (C, H, W) made `scale` times larger by repeating pixels (nearest neighbour)."""
    return image.repeat_interleave(scale, -2).repeat_interleave(scale, -1)
