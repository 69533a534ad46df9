"""Image data sets for embedding: by data-card name, torchvision set, folder or CSV list.

:func:`load_dataset` is the entry point: a data card's name (``cifar100``, see ``data_cards/``)
builds the set its card describes (a torchvision class, an ImageFolder tree or split files); a
folder or a ``path,label`` CSV is read by the loaders of :mod:`alkit.embedding.images`, whose
types (:class:`ImageDataset`, :class:`ImageSplit`) every loader returns.

Where data live: ``root`` if given, else ``$ALKIT_HOME/data/<name>`` (default ``~/.cache/alkit``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .._files import alkit_home
from ..errors import InvalidInputError, MissingResourceError, UnknownNameError
from .images import (
    IMAGE_EXTENSIONS,
    FileSplit,
    ImageDataset,
    ImageSplit,
    TorchvisionSplit,
    csv_list,
    data_root,
    image_folder,
    split_files,
    to_rgb,
)

__all__ = [
    "ImageSplit",
    "FileSplit",
    "TorchvisionSplit",
    "ImageDataset",
    "image_folder",
    "split_files",
    "csv_list",
    "torchvision_dataset",
    "from_card",
    "load_dataset",
    "data_root",
    "data_present",
    "to_rgb",
    "IMAGE_EXTENSIONS",
]


def _tv_ids_labels(ds: Any, split: str) -> tuple[list[str], np.ndarray]:
    root = Path(getattr(ds, "root", "."))
    for attr in ("targets", "_labels", "labels", "_targets"):
        labs = getattr(ds, attr, None)
        if labs is not None and len(labs) == len(ds):
            labels = np.asarray(labs, dtype=np.int64)
            break
    else:
        samples = (
            getattr(ds, "_samples", None)
            or getattr(ds, "samples", None)
            or getattr(ds, "imgs", None)
        )
        if samples is not None:
            labels = np.asarray([s[1] for s in samples], dtype=np.int64)
        else:  # array-backed without a label attribute (e.g. PCAM): read labels only
            labels = np.asarray([int(ds[i][1]) for i in range(len(ds))], dtype=np.int64)
    files = None
    for attr in ("_image_files", "_images", "_samples", "samples", "imgs", "_image_files_list"):
        got = getattr(ds, attr, None)
        if got is not None and len(got) == len(ds):
            files = [g[0] if isinstance(g, tuple | list) else g for g in got]
            break
    if files is not None:
        ids = []
        for f in files:
            f = Path(f)
            try:
                ids.append(str(f.relative_to(root)))
            except ValueError:
                ids.append(str(f))
    else:
        ids = [f"{split}/{i:07d}" for i in range(len(ds))]
    return ids, labels


def torchvision_dataset(
    cls_name: str,
    root: str | os.PathLike,
    split_args: dict[str, dict[str, Any]],
    *,
    classes: list[str] | None = None,
    name: str | None = None,
    download: bool = False,
) -> ImageDataset:
    """A torchvision data set, e.g. ``torchvision_dataset("CIFAR100", root, {"train": {"train": True},
    "test": {"train": False}})``.

    Raises
    ------
    MissingResourceError
        If torchvision cannot find the files (and ``download`` is False or fails).
    """
    import torchvision.datasets as tvd

    cls = getattr(tvd, cls_name, None)
    if cls is None:
        raise UnknownNameError(f"torchvision.datasets has no {cls_name!r}.")
    root = Path(root).expanduser()
    splits: dict[str, ImageSplit] = {}
    found_classes = None
    for split, kwargs in split_args.items():
        try:
            ds = cls(str(root), transform=None, download=download, **kwargs)
        except (RuntimeError, FileNotFoundError, OSError) as exc:
            raise MissingResourceError(
                f"torchvision.datasets.{cls_name}({kwargs}) found no data under {root}: {exc}"
            ) from exc
        except ImportError as exc:
            raise MissingResourceError(
                f"torchvision.datasets.{cls_name} needs {exc.name}: pip install {exc.name}"
            ) from exc
        ids, labels = _tv_ids_labels(ds, split)
        splits[split] = TorchvisionSplit(ds, ids, labels)
        found_classes = found_classes or getattr(ds, "classes", None)
    names = list(classes) if classes is not None else [str(c) for c in (found_classes or [])]
    return ImageDataset(
        name or cls_name.lower(),
        names,
        splits,
        root,
        {"kind": "torchvision", "class": cls_name, "splits": split_args},
    )


# --------------------------------------------------------------------------- cards
def data_present(card: Any, root: str | os.PathLike | None = None) -> bool:
    """Cheap presence check: every path in the card's ``loader.expect`` exists under the data root."""
    base = Path(root).expanduser() if root is not None else data_root(card.name)
    expect = card.loader.get("expect") or []
    return base.is_dir() and all((base / e).exists() for e in expect)


def _missing_data(card: Any, base: Path, detail: str = "") -> MissingResourceError:
    obtain = card.obtain
    layout = obtain.get("layout", "").strip()
    return MissingResourceError(
        f"Data set {card.name!r} ({card.title}) is not at {base}{': ' + detail if detail else ''}. "
        f"Get it ({card.size}): {obtain.get('instructions', '').strip()} "
        + (f"Expected layout under {base}: {layout} " if layout else "")
        + f"Pass root=... (CLI --root) or put it at {data_root(card.name)} (ALKIT_HOME={alkit_home()})."
    )


def from_card(
    card: Any, root: str | os.PathLike | None = None, download: bool = False
) -> ImageDataset:
    """Build the :class:`ImageDataset` a data card describes (see ``data_cards/*.yaml``).

    Raises
    ------
    MissingResourceError
        Naming the data set, its size, how to obtain it and where to put it.
    """
    base = Path(root).expanduser() if root is not None else data_root(card.name)
    spec = card.loader
    kind = spec["type"]
    if not download and not data_present(card, base):
        missing = [e for e in spec.get("expect", []) if not (base / e).exists()]
        raise _missing_data(card, base, f"missing {missing[:3]}" if missing else "")
    try:
        if kind == "torchvision":
            ds = torchvision_dataset(
                spec["class"],
                base,
                spec["splits"],
                classes=card.classes,
                name=card.name,
                download=download,
            )
        elif kind == "image_folder":
            ds = image_folder(
                base / spec.get("subdir", ""),
                name=card.name,
                train=spec.get("train", "train"),
                test=spec.get("test"),
                classes=card.classes,
                class_ids=card.class_ids,
            )
        elif kind == "split_files":
            ds = split_files(
                base / spec.get("subdir", ""), spec["files"], card.classes, name=card.name
            )
        else:  # validated by the card schema
            raise InvalidInputError(f"Unknown loader type {kind!r} in card {card.name!r}.")
    except MissingResourceError as exc:
        raise _missing_data(card, base, str(exc)) from exc
    ds.root = base
    return ds


def load_dataset(
    dataset: str | os.PathLike | ImageDataset,
    root: str | os.PathLike | None = None,
    *,
    download: bool = False,
    name: str | None = None,
    unlabeled: bool = False,
) -> ImageDataset:
    """Resolve a data set: a card name (``"cifar100"``), an image folder, or a ``.csv`` list.

    Your own images: ``load_dataset("./images")`` (the folder's name names the set), or
    ``load_dataset("my_images", root="./images")`` (a name that is no data card, with ``root``
    the folder or CSV holding the images). The folder may hold class folders, images directly
    (all unlabeled) or both (:func:`~alkit.embedding.images.image_folder`); ``unlabeled=True``
    ignores folder names and CSV labels.

    Raises
    ------
    UnknownNameError
        If ``dataset`` is neither a card nor an existing path; the message lists the cards.
    """
    if isinstance(dataset, ImageDataset):
        return dataset
    from ..cards import available_cards, load_card

    s = str(dataset)
    if s in available_cards():
        ds = from_card(load_card(s), root, download=download)
        if name:
            ds.name = name
        return ds
    p = Path(s).expanduser()
    if root is not None and not p.exists() and "/" not in s and p.suffix.lower() != ".csv":
        # `alkit embed --dataset my_images --root ./images`: the images under root, so named
        name, p, root = name or s, Path(root).expanduser(), None
        if not p.exists():
            raise MissingResourceError(
                f"--root {p} does not exist; point it at the folder (or CSV) of the images to "
                f"embed as {s!r}."
            )
    if p.suffix.lower() == ".csv":
        return csv_list(p, root=root, name=name, unlabeled=unlabeled)
    if p.is_dir():
        return image_folder(p, name=name, unlabeled=unlabeled)
    raise UnknownNameError(
        f"Unknown data set {s!r}: not a data card ({', '.join(available_cards())}), "
        "not an image folder and not a .csv file. For your own images give the folder, "
        f"--dataset ./images, or a name and the folder, --dataset {s} --root ./images."
    )
