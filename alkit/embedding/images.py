"""Image data sets on disk: ImageFolder trees, split files and CSV lists (the types all loaders share).

Every loader returns an :class:`ImageDataset`: class names plus one :class:`ImageSplit` per split
(``train`` and, when there is one, ``test``). A split knows, for each image, its label, a stable id
(the image path relative to the data root, or ``<split>/<index>`` for array-backed sets) and how to
read it as a PIL image. Reading happens lazily in DataLoader workers; a file that cannot be decoded
is reported with its path by the extractor (see ``on_corrupt`` in :func:`alkit.embedding.embed`).

Where data live: ``root`` if given, else ``$ALKIT_HOME/data/<name>`` (default ``~/.cache/alkit``).
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._files import alkit_home
from ..errors import InvalidInputError, MissingResourceError

__all__ = [
    "ImageSplit",
    "FileSplit",
    "TorchvisionSplit",
    "ImageDataset",
    "image_folder",
    "split_files",
    "csv_list",
    "describe_layout",
    "data_root",
    "IMAGE_EXTENSIONS",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def data_root(name: str) -> Path:
    """Default location of a data set: ``$ALKIT_HOME/data/<name>``."""
    return alkit_home() / "data" / name


def to_rgb(img):
    """PIL image -> 8-bit RGB. 16-bit and float images (microscopy TIFFs) are min-max scaled per
    image first, since PIL's own conversion would clip everything above 255."""
    from PIL import Image

    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float32)
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        img = Image.fromarray(a.round().astype(np.uint8))  # 2-D uint8 -> mode "L"
    return img.convert("RGB")


class ImageSplit:
    """One split: ``len``, ``labels`` (int64, -1 = unknown), ``ids`` and ``load(i) -> PIL.Image``."""

    ids: list[str]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def load(self, i: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self, i: int) -> str:
        """Where item ``i`` comes from (for error messages)."""
        return self.ids[i]

    def fingerprint(self) -> str:
        """sha256 over ids and labels: changes when files or labels change."""
        h = hashlib.sha256()
        h.update("\n".join(self.ids).encode())
        h.update(np.ascontiguousarray(self.labels, dtype=np.int64).tobytes())
        return h.hexdigest()[:16]


class FileSplit(ImageSplit):
    """Images stored as files under ``root`` (ids are the paths relative to it)."""

    def __init__(self, root: str | os.PathLike, rel_paths: list[str], labels: np.ndarray) -> None:
        self.root = Path(root)
        self.ids = [str(p) for p in rel_paths]
        self.labels = np.asarray(labels, dtype=np.int64)
        if len(self.ids) != len(self.labels):
            raise InvalidInputError(
                f"{len(self.ids)} paths but {len(self.labels)} labels under {root}."
            )

    def path(self, i: int) -> Path:
        return self.root / self.ids[i]

    def load(self, i: int):
        from PIL import Image

        with Image.open(self.path(i)) as img:
            img.load()  # decode now so a truncated file fails here, not later
            return to_rgb(img)

    def describe(self, i: int) -> str:
        return str(self.path(i))


class TorchvisionSplit(ImageSplit):
    """A torchvision data set built with ``transform=None`` (items are ``(PIL image, label)``)."""

    def __init__(self, dataset: Any, ids: list[str], labels: np.ndarray) -> None:
        self.dataset = dataset
        self.ids = ids
        self.labels = np.asarray(labels, dtype=np.int64)

    def load(self, i: int):
        img = self.dataset[i][0]
        return to_rgb(img) if hasattr(img, "convert") else img


@dataclass
class ImageDataset:
    """Class names and splits of an image data set.

    Attributes
    ----------
    name : str
        Cache name (``cifar100``, or the folder / CSV name for your own images).
    classes : list of str
        Class names; label ``k`` is ``classes[k]``.
    splits : dict of str to ImageSplit
        ``train`` (the AL pool) and optionally ``test``.
    root : Path
        Where the images were found.
    source : dict
        Loader description (kind, arguments) for provenance.
    """

    name: str
    classes: list[str]
    splits: dict[str, ImageSplit]
    root: Path
    source: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        parts = {k: (len(s), s.fingerprint()) for k, s in self.splits.items()}
        h = hashlib.sha256(repr((self.name, self.classes, sorted(parts.items()))).encode())
        return h.hexdigest()[:16]

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.splits.items())
        return f"ImageDataset({self.name!r}, n_classes={len(self.classes)}, {sizes}, root={str(self.root)!r})"


# --------------------------------------------------------------------------- ImageFolder
def _list_images(folder: Path, extensions: tuple[str, ...]) -> list[Path]:
    out = []
    for dirpath, _dirs, files in os.walk(folder, followlinks=True):
        for f in files:
            if f.lower().endswith(extensions) and not f.startswith("."):
                out.append(Path(dirpath) / f)
    return sorted(out)


def _folder_split(
    root: Path, split_dir: Path, class_ids: list[str], extensions: tuple[str, ...]
) -> FileSplit:
    present = sorted(
        d.name for d in split_dir.iterdir() if d.is_dir() and not d.name.startswith(".")
    )
    unknown = sorted(set(present) - set(class_ids))
    if unknown:
        raise InvalidInputError(
            f"{split_dir} has class folders not in the class list: {unknown[:10]}; "
            f"expected folder names {class_ids[:10]}{'…' if len(class_ids) > 10 else ''}."
        )
    rel, labels = [], []
    for k, cid in enumerate(class_ids):
        d = split_dir / cid
        if not d.is_dir():
            continue
        for p in _list_images(d, extensions):
            rel.append(str(p.relative_to(root)))
            labels.append(k)
    if not rel:
        raise MissingResourceError(f"No images ({', '.join(extensions)}) found under {split_dir}.")
    return FileSplit(root, rel, np.asarray(labels, dtype=np.int64))


def _loose_images(folder: Path, extensions: tuple[str, ...]) -> list[Path]:
    """Image files directly in ``folder`` (not in its sub-folders)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.name.lower().endswith(extensions) and not p.name.startswith(".")
    )


def image_folder(
    root: str | os.PathLike,
    *,
    name: str | None = None,
    train: str | None = "train",
    test: str | None = "test",
    classes: list[str] | None = None,
    class_ids: list[str] | None = None,
    extensions: tuple[str, ...] = IMAGE_EXTENSIONS,
    unlabeled: bool = False,
) -> ImageDataset:
    """An image folder, in whichever layout a practitioner's images come:

    - class folders, ``root/<class>/*.jpg`` (or ``root/<train>/<class>/…`` + ``root/<test>/…``):
      the folder names become the classes and each image's label (``source["layout"]`` is
      ``"class_folders"``);
    - a flat folder, ``root/*.jpg`` with no sub-folders: every label unknown (-1) and no classes
      (give them to the learner, e.g. ``alkit next --classes``): ``"flat"``;
    - both: the images directly in ``root`` are unknown, those in sub-folders labeled: ``"mixed"``.

    Parameters
    ----------
    root : path
        Data root.
    name : str, optional
        Cache name (default: the folder name).
    train, test : str or None
        Split sub-folders (``test=None``: no test split; a missing test folder is skipped).
    classes : list of str, optional
        Class names in label order (default: sorted folder names).
    class_ids : list of str, optional
        Folder names in label order when they differ from ``classes`` (e.g. ImageNet wnids).
    extensions : tuple of str
        File suffixes taken as images.
    unlabeled : bool
        Ignore the folder names: every image (sub-folders included) is unknown (-1), and the set
        has no classes (``"unlabeled"``).

    Raises
    ------
    MissingResourceError
        If ``root`` does not exist or holds no images.
    InvalidInputError
        If a class folder is not in the given class list.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise MissingResourceError(f"Image folder {root} does not exist.")
    train_dir = root / train if train else root
    single = not train_dir.is_dir()
    if single:
        train_dir = root
    source = {"kind": "image_folder", "train": train, "test": test}
    if unlabeled:
        files = _list_images(root, extensions)
        if not files:
            raise MissingResourceError(f"No images ({', '.join(extensions)}) found under {root}.")
        rel = [str(p.relative_to(root)) for p in files]
        split = FileSplit(root, rel, np.full(len(rel), -1, dtype=np.int64))
        return ImageDataset(
            name or root.name, [], {"train": split}, root, {**source, "layout": "unlabeled"}
        )
    ids = class_ids or classes
    own = ids is None  # a practitioner's folder: its layout decides what is labeled
    if own:
        ids = sorted(
            d.name for d in train_dir.iterdir() if d.is_dir() and not d.name.startswith(".")
        )
    loose = _loose_images(train_dir, extensions) if own and single else []
    if not ids:
        if not loose:
            raise MissingResourceError(
                f"{train_dir} has neither images ({', '.join(extensions)}) nor class sub-folders "
                f"(expected {train_dir}/*.jpg or {train_dir}/<class>/*.jpg)."
            )
        rel = [str(p.relative_to(root)) for p in loose]
        split = FileSplit(root, rel, np.full(len(rel), -1, dtype=np.int64))
        return ImageDataset(
            name or root.name, [], {"train": split}, root, {**source, "layout": "flat"}
        )
    names = list(classes) if classes is not None else list(ids)
    if len(names) != len(ids):
        raise InvalidInputError(f"{len(names)} class names but {len(ids)} class ids.")
    train_split = _folder_split(root, train_dir, list(ids), extensions)
    if loose:
        rel = [str(p.relative_to(root)) for p in loose] + train_split.ids
        labels = np.concatenate([np.full(len(loose), -1, dtype=np.int64), train_split.labels])
        train_split = FileSplit(root, rel, labels)
    splits: dict[str, ImageSplit] = {"train": train_split}
    if test and not single and (root / test).is_dir():
        splits["test"] = _folder_split(root, root / test, list(ids), extensions)
    layout = "mixed" if loose else "class_folders"
    return ImageDataset(name or root.name, names, splits, root, {**source, "layout": layout})


def describe_layout(layout: str | None, labels: np.ndarray, n_classes: int, root: Any) -> str:
    """One sentence on what a folder's layout made of the labels (``alkit embed`` prints it).

    Parameters
    ----------
    layout : str or None
        ``ImageDataset.source["layout"]`` (also in an embedding's ``meta["data_source"]``).
    labels : ndarray of shape (n,)
        The pool's labels (-1 unknown).
    n_classes : int
    root : path
        Where the images are.
    """
    n, known = len(labels), int((np.asarray(labels) >= 0).sum())
    if layout == "class_folders":
        return (
            f"{n} images in {n_classes} class folders: the folder names became labels (every "
            "image is labeled); pass --unlabeled (unlabeled=True) to ignore them."
        )
    if layout == "mixed":
        return (
            f"{n} images: {n - known} directly in {root} are unlabeled, {known} in {n_classes} "
            "class folders are labeled by their folder name; pass --unlabeled (unlabeled=True) "
            "to ignore the folder names."
        )
    if known == 0:
        return (
            f"{n} images, all unlabeled: give the class names when you label, e.g. "
            "alkit next --classes classes.txt."
        )
    return f"{n} images, {known} of them labeled ({n_classes} classes)."


# --------------------------------------------------------------------------- split files
def _read_split_file(path: Path, n_classes: int) -> tuple[list[str], np.ndarray]:
    rel, labels = [], []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            parts = line.rsplit(maxsplit=1)
            if len(parts) != 2:
                raise InvalidInputError(
                    f"{path}:{lineno}: expected '<relative path> <label>', got {line!r}."
                )
            try:
                lab = int(parts[1])
            except ValueError:
                raise InvalidInputError(
                    f"{path}:{lineno}: label {parts[1]!r} is not an integer."
                ) from None
            if not 0 <= lab < n_classes:
                raise InvalidInputError(f"{path}:{lineno}: label {lab} outside 0..{n_classes - 1}.")
            rel.append(parts[0])
            labels.append(lab)
    return rel, np.asarray(labels, dtype=np.int64)


def split_files(
    root: str | os.PathLike, files: dict[str, str], classes: list[str], *, name: str | None = None
) -> ImageDataset:
    """Split-file lists (DomainNet style): each line ``<path relative to root> <integer label>``.

    Parameters
    ----------
    root : path
        Directory the listed paths are relative to.
    files : dict
        ``{"train": "real_train.txt", "test": "real_test.txt"}`` (relative to ``root`` or absolute).
    classes : list of str
        Class names in label order.
    """
    root = Path(root).expanduser()
    splits: dict[str, ImageSplit] = {}
    for split, f in files.items():
        path = Path(f) if os.path.isabs(f) else root / f
        if not path.is_file():
            raise MissingResourceError(f"Split file {path} not found (expected under {root}).")
        rel, labels = _read_split_file(path, len(classes))
        splits[split] = FileSplit(root, rel, labels)
    return ImageDataset(
        name or root.name, list(classes), splits, root, {"kind": "split_files", "files": files}
    )


# --------------------------------------------------------------------------- CSV
def csv_list(
    path: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    classes: list[str] | None = None,
    name: str | None = None,
    unlabeled: bool = False,
) -> ImageDataset:
    """Your own images from a CSV with columns ``path,label`` (optional ``split``: train/test).

    ``label`` is a class name or an integer index; an empty label (or no ``label`` column) means
    unknown (-1) — the usual state of an unlabeled pool. Paths are relative to ``root`` (default:
    the CSV's folder). ``unlabeled=True`` ignores the ``label`` column (and the test rows).

    Raises
    ------
    InvalidInputError
        Naming the CSV line of a malformed row (missing path, unknown class, bad split).
    MissingResourceError
        If the CSV does not exist.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingResourceError(f"CSV file {path} not found.")
    base = Path(root).expanduser() if root is not None else path.parent
    rows: list[tuple[int, str, str, str]] = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = [c.strip() for c in (reader.fieldnames or [])]
        if "path" not in cols:
            raise InvalidInputError(
                f"{path} needs a header with columns 'path,label' (optional 'split'); got {cols}."
            )
        for lineno, row in enumerate(reader, 2):
            if None in row:  # csv.DictReader puts surplus fields under the key None
                raise InvalidInputError(
                    f"{path}:{lineno}: {len(cols) + len(row[None])} fields but the header has {len(cols)} "
                    "(quote paths that contain commas)."
                )
            row = {k.strip(): (v or "").strip() for k, v in row.items()}
            p = row.get("path") or ""
            if not p:
                raise InvalidInputError(f"{path}:{lineno}: empty 'path'.")
            split = row.get("split") or "train"
            if split not in ("train", "test"):
                raise InvalidInputError(
                    f"{path}:{lineno}: split must be 'train' or 'test', got {split!r}."
                )
            if unlabeled and split == "test":
                continue
            rows.append((lineno, p, "" if unlabeled else row.get("label") or "", split))
    if not rows:
        raise InvalidInputError(f"{path} has no rows.")
    given = [r[2] for r in rows if r[2] != ""]
    if classes is None:
        if given and all(g.lstrip("-").isdigit() for g in given):
            top = max(int(g) for g in given)
            classes = [str(i) for i in range(top + 1)]
        else:
            classes = sorted(set(given))
    lookup = {c: i for i, c in enumerate(classes)}
    per_split: dict[str, tuple[list[str], list[int]]] = {}
    for lineno, p, lab, split in rows:
        if lab == "":
            y = -1
        elif lab in lookup:
            y = lookup[lab]
        elif lab.lstrip("-").isdigit() and 0 <= int(lab) < len(classes):
            y = int(lab)
        else:
            raise InvalidInputError(
                f"{path}:{lineno}: label {lab!r} is neither a class name nor an index 0..{len(classes) - 1}."
            )
        if split == "test" and y < 0:
            raise InvalidInputError(f"{path}:{lineno}: test rows need a label.")
        rel, labs = per_split.setdefault(split, ([], []))
        rel.append(p)
        labs.append(y)
    if "train" not in per_split:
        raise InvalidInputError(f"{path} has no train rows (split column all 'test').")
    splits: dict[str, ImageSplit] = {
        s: FileSplit(base, rel, np.asarray(labs, dtype=np.int64))
        for s, (rel, labs) in per_split.items()
    }
    return ImageDataset(
        name or path.stem,
        list(classes),
        splits,
        base,
        {"kind": "csv", "path": str(path), "layout": "unlabeled" if unlabeled else "csv"},
    )


# --------------------------------------------------------------------------- torchvision
