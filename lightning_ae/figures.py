"""Pictures of the classic posts: digit grids (torchvision's make_grid) and latent scatter plots."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: figures go to TensorBoard and PNG files
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from torch import Tensor  # noqa: E402
from torchvision.utils import make_grid, save_image  # noqa: E402


def digit_grid(rows: list[Tensor], side: int = 28) -> Tensor:
    """Stack rows of flattened images (each (n, side*side)) into one (3, H, W) grid, one row each."""
    n = rows[0].shape[0]
    images = torch.cat([r.detach().float().cpu().clamp(0, 1).reshape(-1, 1, side, side) for r in rows])
    return make_grid(images, nrow=n, padding=2, pad_value=0.5)


def scatter_figure(panels: dict[str, tuple[Tensor, Tensor]], max_points: int = 5000) -> Figure:
    """Side-by-side scatter plots of 2-D codes coloured by digit, one panel per {title: (z, y)}."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4), squeeze=False)
    for ax, (title, (z, y)) in zip(axes[0], panels.items()):
        z, y = z[:max_points].detach().float().cpu(), y[:max_points].cpu()
        points = ax.scatter(z[:, 0], z[:, 1], c=y, s=4, cmap="tab10", vmin=-0.5, vmax=9.5)
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(points, ax=axes[0].tolist(), ticks=range(10), label="digit")
    return fig


def save(picture: Tensor | Figure, path: str | Path) -> Path:
    """Write an image tensor (C, H, W) or a matplotlib figure to a PNG file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(picture, Figure):
        picture.savefig(path, dpi=120, bbox_inches="tight")
    else:
        save_image(picture, path)
    return path
