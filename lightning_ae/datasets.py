"""The MNIST family by name (`data.dataset: mnist | fashion_mnist | kmnist`): where the files are,
their class names, and fetching them with torchvision when no copy is found.

Where a dataset is looked for (each folder holding the four IDX files, `.gz` or not, in
`<Folder>/raw/` under it, torchvision's layout, or in it directly):

1. `data.data_dir` (`--data.data_dir`) if given, else `$LIGHTNING_AE_DATA` if set: only there;
2. otherwise `data/` and `../shared/data` (relative to the current folder: the checkout's copy and
   the one CI and the development machines keep beside it), then the per-user cache
   (`cache_dir()`: `$LIGHTNING_AE_CACHE`, else `$XDG_CACHE_HOME/lightning-ae`, else
   `~/.cache/lightning-ae`), then a system copy (Debian's `dataset-fashion-mnist` package);
3. not found: in case 1 `data.download: true` fetches it into that folder; in case 2 it is fetched
   into the cache without asking (torchvision's download, with its progress bar), unless
   `$LIGHTNING_AE_OFFLINE=1`. Without network (or offline) the run stops with one line naming where
   it looked and how to fix it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lightning_ae.idx import DEFAULT_DATA_DIRS, FILES, DataError, idx_path, read_header
CACHE_ENV, OFFLINE_ENV = "LIGHTNING_AE_CACHE", "LIGHTNING_AE_OFFLINE"


@dataclass(frozen=True)
class Dataset:
    title: str  # as people write it
    folder: str  # torchvision's class name, and its folder: <root>/<folder>/raw
    classes: tuple[str, ...]  # label i's name
    system_dirs: tuple[str, ...] = ()  # copies installed by the operating system's packages


DATASETS = {
    "mnist": Dataset("MNIST", "MNIST", tuple(str(d) for d in range(10))),
    "fashion_mnist": Dataset("Fashion-MNIST", "FashionMNIST", (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        system_dirs=("/usr/share/datasets/fashion-mnist",)),
    # Kuzushiji-MNIST (Clanuwat et al. 2018): one cursive hiragana per class, romanised
    "kmnist": Dataset("KMNIST", "KMNIST", ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),
}


def cache_dir() -> Path:
    """The per-user folder datasets are downloaded into: $LIGHTNING_AE_CACHE, else
    $XDG_CACHE_HOME/lightning-ae, else ~/.cache/lightning-ae."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "lightning-ae"


def search_dirs(data_dir: str | None, dataset: str = "mnist") -> list[Path]:
    """The folders `find_data_dir` looks in, in order (see the module's docstring)."""
    if data_dir is not None:
        return [Path(data_dir).expanduser()]
    if os.environ.get("LIGHTNING_AE_DATA"):
        return [Path(os.environ["LIGHTNING_AE_DATA"]).expanduser()]
    return [*(Path(d) for d in DEFAULT_DATA_DIRS), cache_dir(), *(Path(d) for d in DATASETS[dataset].system_dirs)]


def _complete(root: Path, folder: str) -> bool:
    return all(idx_path(root, name, folder) for pair in FILES.values() for name in pair)


def find_data_dir(data_dir: str | None, dataset: str = "mnist") -> Path | None:
    """The first folder of `search_dirs` holding the dataset's four IDX files, or None."""
    folder = DATASETS[dataset].folder
    return next((root for root in search_dirs(data_dir, dataset) if _complete(root, folder)), None)


def locate(data_dir: str | None, dataset: str = "mnist", download: bool = False) -> Path:
    """The folder holding the dataset's IDX files (see `find_data_dir`), fetched when missing (see
    the module's docstring); a `DataError` naming where it looked and the fixes otherwise."""
    root = find_data_dir(data_dir, dataset)
    if root is not None:
        return root
    info = DATASETS[dataset]
    explicit = data_dir is not None or bool(os.environ.get("LIGHTNING_AE_DATA"))
    target = search_dirs(data_dir, dataset)[0] if explicit else cache_dir()
    offline = os.environ.get(OFFLINE_ENV, "") not in ("", "0")
    if (download or not explicit) and not offline:
        download_dataset(target, dataset, searched=search_dirs(data_dir, dataset))
        return target
    where = " or ".join(str(d) for d in search_dirs(data_dir, dataset))
    how = ("set data.download: true (--data.download true) to fetch them" if explicit else
           f"unset {OFFLINE_ENV} to fetch them into {target}")
    raise DataError(
        f"{info.title} not found in {where} (looked for train-images-idx3-ubyte[.gz] and the three other "
        f"IDX files there and in {info.folder}/raw/ under it). Fix: put the four files in "
        f"{target / info.folder / 'raw'}, or {how}."
    )


def image_shape(root: Path, dataset: str = "mnist") -> tuple[int, int]:
    """(H, W) of the training images, from the IDX header (16 bytes read); (28, 28) if unreadable."""
    path = idx_path(root, FILES["train"][0], DATASETS[dataset].folder)
    dims = read_header(path) if path is not None else ()
    return (int(dims[1]), int(dims[2])) if len(dims) == 3 and dims[1] and dims[2] else (28, 28)


def download_dataset(root: Path, dataset: str = "mnist", searched: list[Path] | None = None) -> None:
    """Fetch the dataset with torchvision (its progress bar on stderr) into `root/<Folder>/raw`; a network
    error becomes a `DataError` that says where else it looked and what to do without network."""
    import torchvision.datasets

    info = DATASETS[dataset]
    source = getattr(torchvision.datasets, info.folder)
    try:
        for train in (True, False):
            source(str(root), train=train, download=True)
    except (OSError, RuntimeError) as e:
        looked = f" (not found in {', '.join(str(d) for d in searched)})" if searched else ""
        raise DataError(
            f"could not download {info.title} into {root}{looked} ({type(e).__name__}: {e}). Without network, copy "
            f"the four IDX files (train-images-idx3-ubyte.gz, ...) into {root / info.folder / 'raw'} and rerun, "
            f"or set --data.data_dir to a folder holding them."
        ) from e
