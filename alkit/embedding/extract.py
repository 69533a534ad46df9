"""Batched, resumable feature extraction: images -> cached :class:`~alkit.data.EmbeddingSet`.

Layout of the cache (``cache_dir`` defaults to ``$ALKIT_HOME/embeddings``)::

    <cache_dir>/<dataset>__<backbone>.npz            the finished set (':' and '/' -> '-')
    <cache_dir>/.partial/<same>-<config hash>/<split>/chunk_<start>_<stop>.npz
                                                     chunks of an unfinished run

Each chunk is written through a temporary file and a rename, so a killed run leaves only whole
chunks; the next call with the same configuration skips them and continues. The finished set is
saved atomically, then the chunks are removed.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._devices import resolve_device
from .._files import atomic_path, stable_hash
from ..data import EmbeddingSet
from ..errors import CorruptCacheError, InvalidInputError, MissingResourceError
from ..sources import cache_key, embeddings_dir
from . import backbones as bb
from . import text as text_mod
from .datasets import ImageDataset, ImageSplit, load_dataset
from .registry import _offline

__all__ = ["embed", "cache_path"]

ON_CORRUPT = ("fail", "skip")


def _safe(key: str) -> str:
    return key.replace(":", "-").replace("/", "-")


def cache_path(dataset: str, backbone: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """File of a finished (data set, backbone) cache entry: ``<cache_dir>/<safe key>.npz``."""
    base = Path(cache_dir).expanduser() if cache_dir is not None else embeddings_dir()
    return base / f"{_safe(cache_key(dataset, backbone))}.npz"


class _Items(torch.utils.data.Dataset):
    """``(tensor | None, index, error | None)`` per image; decoding errors are returned, not raised."""

    def __init__(self, split: ImageSplit, transform: Callable) -> None:
        self.split = split
        self.transform = transform

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, i: int):
        try:
            x = self.transform(self.split.load(i))
            if not isinstance(x, torch.Tensor):
                raise TypeError(f"transform returned {type(x).__name__}, not a tensor")
            return x, i, None
        except Exception as exc:  # corrupt/unreadable image, reported by the caller with its path
            return None, i, f"{type(exc).__name__}: {exc}"


def _collate(items):
    good = [(x, i) for x, i, e in items if e is None]
    bad = [(i, e) for _x, i, e in items if e is not None]
    x = torch.stack([g[0] for g in good]) if good else None
    idx = torch.tensor([g[1] for g in good], dtype=torch.long)
    return x, idx, bad


def _save_chunk(
    path: Path, x: np.ndarray, idx: np.ndarray, bad_idx: np.ndarray, bad_msg: list[str]
) -> None:
    """Write one chunk atomically (temporary file + rename)."""
    with atomic_path(path, ".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                x=x,
                idx=idx,
                bad_idx=bad_idx,
                bad_msg=np.frombuffer(json.dumps(bad_msg).encode(), dtype=np.uint8),
            )


def _load_chunk(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            return z["x"], z["idx"], z["bad_idx"], json.loads(bytes(z["bad_msg"]).decode())
    except Exception:
        return None  # a damaged chunk is recomputed


def _autocast(device: torch.device, precision: str):
    if device.type == "cuda" and precision in ("fp16", "bf16"):
        return torch.autocast(
            "cuda", dtype=torch.float16 if precision == "fp16" else torch.bfloat16
        )
    if device.type == "cpu" and precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return torch.autocast(device.type, enabled=False)


def _extract_split(
    split_name: str,
    split: ImageSplit,
    model: nn.Module,
    transform: Callable,
    device: torch.device,
    precision: str,
    batch_size: int,
    num_workers: int,
    chunk_size: int,
    part_dir: Path,
    on_corrupt: str,
    progress: bool,
    label: str,
) -> tuple[np.ndarray, np.ndarray, list[dict[str, str]], dict[str, float]]:
    """Features of one split, chunk by chunk; returns (x (n_ok, d), kept indices (n_ok,), skipped, stats)."""
    from tqdm.auto import tqdm

    n = len(split)
    out_dir = part_dir / split_name
    out_dir.mkdir(parents=True, exist_ok=True)
    bounds = [(s, min(s + chunk_size, n)) for s in range(0, n, chunk_size)]
    done: dict[int, tuple] = {}
    for k, (s, e) in enumerate(bounds):
        f = out_dir / f"chunk_{s:09d}_{e:09d}.npz"
        if f.exists():
            got = _load_chunk(f)
            if got is not None:
                done[k] = got
    todo = [k for k in range(len(bounds)) if k not in done]
    batches, batch_chunk = [], []
    for k in todo:
        s, e = bounds[k]
        for b in range(s, e, batch_size):
            batches.append(list(range(b, min(b + batch_size, e))))
            batch_chunk.append(k)
    n_todo = sum(bounds[k][1] - bounds[k][0] for k in todo)
    stats = {"images": float(n_todo), "seconds": 0.0}
    if batches:
        loader = torch.utils.data.DataLoader(
            _Items(split, transform),
            batch_sampler=batches,
            num_workers=num_workers,
            collate_fn=_collate,
            pin_memory=device.type == "cuda",
        )
        bar = tqdm(
            total=n_todo,
            unit="img",
            desc=f"{label} [{split_name}]",
            disable=not progress,
            initial=0,
            dynamic_ncols=True,
        )
        acc_x: list[np.ndarray] = []
        acc_i: list[np.ndarray] = []
        acc_bad: list[tuple[int, str]] = []
        t0 = time.perf_counter()
        with torch.inference_mode():
            for b, (x, idx, bad) in enumerate(loader):
                k = batch_chunk[b]
                for i, msg in bad:
                    where = split.describe(i)
                    if on_corrupt == "fail":
                        raise InvalidInputError(
                            f"Cannot read image {where} ({msg}). Fix or remove the file, or rerun with "
                            "on_corrupt='skip' (CLI --on-corrupt skip) to leave it out of the embeddings."
                        )
                    warnings.warn(f"skipping unreadable image {where} ({msg})", stacklevel=2)
                    acc_bad.append((i, msg))
                if x is not None:
                    x = x.to(device, non_blocking=True)
                    with _autocast(device, precision):
                        feats = model(x)
                    if isinstance(feats, tuple | list):
                        feats = feats[0]
                    feats = feats.float().reshape(len(x), -1).cpu().numpy()
                    acc_x.append(feats)
                    acc_i.append(idx.numpy())
                bar.update(len(idx) + len(bad))
                last = b + 1 == len(batches) or batch_chunk[b + 1] != k
                if last:
                    s, e = bounds[k]
                    dim = acc_x[0].shape[1] if acc_x else 0
                    cx = np.concatenate(acc_x) if acc_x else np.zeros((0, dim), np.float32)
                    ci = np.concatenate(acc_i) if acc_i else np.zeros(0, np.int64)
                    bi = np.asarray([i for i, _ in acc_bad], dtype=np.int64)
                    bm = [m for _, m in acc_bad]
                    _save_chunk(out_dir / f"chunk_{s:09d}_{e:09d}.npz", cx, ci, bi, bm)
                    done[k] = (cx, ci, bi, bm)
                    acc_x, acc_i, acc_bad = [], [], []
        stats["seconds"] = time.perf_counter() - t0
        bar.close()
    dims = {v[0].shape[1] for v in done.values() if len(v[0])}
    if len(dims) > 1:
        raise CorruptCacheError(
            f"Chunks in {out_dir} disagree on the feature dimension {dims}; delete {part_dir}."
        )
    dim = dims.pop() if dims else 0
    xs = [done[k][0].reshape(-1, dim) if dim else done[k][0] for k in range(len(bounds))]
    x_all = (
        np.concatenate(xs).astype(np.float32, copy=False) if xs else np.zeros((0, dim), np.float32)
    )
    idx_all = (
        np.concatenate([done[k][1] for k in range(len(bounds))]).astype(np.int64)
        if bounds
        else np.zeros(0, np.int64)
    )
    skipped = [
        {"id": split.ids[int(i)], "error": m}
        for k in range(len(bounds))
        for i, m in zip(done[k][2], done[k][3])
    ]
    if len(idx_all) == 0:
        raise InvalidInputError(
            f"No image of the {split_name} split could be embedded ({len(skipped)} unreadable, first: "
            f"{skipped[:1]}); check the data and the transform."
        )
    return x_all, idx_all, skipped, stats


def _resolve_backbone(backbone: Any, backbone_name: str | None) -> bb.BackboneSpec:
    if isinstance(backbone, str):
        return bb.get_spec(backbone)
    if isinstance(backbone, bb.BackboneSpec):
        return backbone
    if isinstance(backbone, bb.Backbone):
        return bb.custom_spec(backbone.model, backbone.transform, backbone_name or backbone.name)
    if (
        isinstance(backbone, tuple | list)
        and len(backbone) == 2
        and isinstance(backbone[0], nn.Module)
    ):
        return bb.custom_spec(backbone[0], backbone[1], backbone_name)
    raise InvalidInputError(
        "backbone must be a registry name (see alkit.embedding.backbones.available()) or a "
        f"(torch.nn.Module, transform) pair; got {type(backbone).__name__}."
    )


def embed(
    dataset: str | os.PathLike | ImageDataset,
    backbone: str | tuple | bb.Backbone,
    root: str | os.PathLike | None = None,
    *,
    device: str | torch.device = "auto",
    batch_size: int = 64,
    num_workers: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    chunk_size: int = 4096,
    precision: str = "auto",
    on_corrupt: str = "fail",
    force: bool = False,
    download_weights: bool = True,
    download_data: bool = False,
    progress: bool = True,
    name: str | None = None,
    backbone_name: str | None = None,
    unlabeled: bool = False,
    text: bool = True,
    text_templates: list[str] | str | os.PathLike | None = None,
    class_names: list[str] | None = None,
) -> EmbeddingSet:
    """Embed a data set with a frozen backbone and cache the result.

    Parameters
    ----------
    dataset : str, path or ImageDataset
        A data-card name (``"cifar100"``, see ``alkit datasets``), an ImageFolder directory, a
        ``path,label`` CSV, or an :class:`~alkit.embedding.datasets.ImageDataset`.
    backbone : str or (torch.nn.Module, transform)
        A registry name (``"dinov2:vitg14"``, ``"openclip:ViT-bigG-14:laion2b_s39b_b160k"``,
        ``"torchvision:resnet18"``) or your own module + transform; the module maps a (B, 3, H, W)
        batch to (B, d) features.
    root : path, optional
        Where the images are (default ``$ALKIT_HOME/data/<dataset>``).
    device : str
        ``"auto"`` (CUDA when present), ``"cuda"`` or ``"cpu"``.
    batch_size : int
        Images per forward pass.
    num_workers : int, optional
        DataLoader worker processes (default: ``min(8, CPUs)`` on CUDA, 0 on CPU).
    cache_dir : path, optional
        Default ``$ALKIT_HOME/embeddings`` (where :func:`alkit.load_embeddings` looks).
    chunk_size : int
        Images per resumable chunk.
    precision : {"auto", "fp32", "fp16", "bf16"}
        ``"auto"``: fp16 autocast on CUDA (as the paper's 16-mixed extraction), fp32 on CPU.
    on_corrupt : {"fail", "skip"}
        An image that cannot be read raises :class:`~alkit.errors.InvalidInputError` naming its
        path (``"fail"``), or is left out with a warning and listed in ``meta["skipped"]``
        (``"skip"``); labels always stay aligned with the kept images.
    force : bool
        Recompute even if a matching cache exists.
    download_weights, download_data : bool
        Allow fetching missing weights (default yes, unless ``HF_HUB_OFFLINE``/``ALKIT_OFFLINE``)
        or a torchvision data set (default no).
    progress : bool
        Show a tqdm bar with images/s.
    name : str, optional
        Data-set part of the cache key (default: card name, folder name or CSV stem).
    backbone_name : str, optional
        Backbone part of the cache key for a user module (default ``custom-<weights hash>``).
    unlabeled : bool
        Your own images: ignore class-folder names (and CSV labels); every label is unknown.
    text : bool
        With an ``openclip:`` backbone, also store the class names' text embeddings
        (``class_text``, ``meta["text"]``; :mod:`alkit.embedding.text`): the zero-shot
        classifier. A cached set without them (or with other templates) gets them added
        without re-embedding its images.
    text_templates : list of str or path, optional
        Prompt templates with ``{}`` (default: open_clip's 80 OpenAI ImageNet templates), or a
        file with one per line.
    class_names : list of str, optional
        Names to put into the templates (default: the card's ``class_descriptions``, else the
        class names).

    Returns
    -------
    EmbeddingSet
        ``x_train`` (n_train, d) float32, ``y_train`` (n_train,) int64 (-1 = unknown), the test split
        when the data set has one, ``classes`` and ``meta`` (dataset, backbone, preprocessing_hash,
        weights, created, counts, ``ids`` / ``test_ids`` = image ids, ``skipped``); with an
        ``openclip:`` backbone also ``class_text`` (n_classes, d) and ``meta["text"]``.

    Raises
    ------
    MissingResourceError
        Weights or data are not on disk (message: what to fetch, its size, where to put it).
    InvalidInputError
        A corrupt image with ``on_corrupt="fail"``, bad arguments.
    """
    if on_corrupt not in ON_CORRUPT:
        raise InvalidInputError(f"on_corrupt must be one of {ON_CORRUPT}, got {on_corrupt!r}.")
    if precision not in ("auto", "fp32", "fp16", "bf16"):
        raise InvalidInputError(f"precision must be auto, fp32, fp16 or bf16; got {precision!r}.")
    for arg, val in (("batch_size", batch_size), ("chunk_size", chunk_size)):
        if not isinstance(val, int | np.integer) or val < 1:
            raise InvalidInputError(f"{arg} must be a positive integer, got {val!r}.")
    dev = resolve_device(device)
    precision_requested = precision != "auto"
    if precision == "auto":
        precision = "fp16" if dev.type == "cuda" else "fp32"
    spec = _resolve_backbone(backbone, backbone_name)
    want_text = bool(text) and text_mod.is_clip(spec.name)
    if want_text and text_templates is not None and not isinstance(text_templates, list):
        text_templates = text_mod.read_templates(text_templates)
    transform = spec.transform()
    pre_hash = bb.preprocessing_hash(spec, transform)

    ds_name = name or (dataset.name if isinstance(dataset, ImageDataset) else None)
    ds_error: MissingResourceError | None = None
    try:
        ds = load_dataset(dataset, root, download=download_data, name=name, unlabeled=unlabeled)
    except MissingResourceError as exc:
        ds, ds_error = None, exc
    if ds is not None:
        ds_name = ds.name
    elif ds_name is None:
        s = str(dataset)
        ds_name = Path(s).stem if ("/" in s or s.endswith(".csv")) else s
    out = cache_path(ds_name, spec.name, cache_dir)

    if out.exists() and not force:
        try:
            cached = EmbeddingSet.load(out)
        except CorruptCacheError as exc:
            warnings.warn(f"ignoring damaged cache {out}: {exc}", stacklevel=2)
            cached = None
        if (
            cached is not None
            and cached.meta.get("preprocessing_hash") == pre_hash
            and (ds is None or cached.meta.get("dataset_fingerprint") == ds.fingerprint())
            and (not precision_requested or cached.meta.get("precision") == precision)
        ):
            if want_text and text_mod.text_stale(cached, text_templates, class_names):
                cached = text_mod.add_text(
                    cached,
                    backbone=spec.name,
                    templates=text_templates,
                    class_names=class_names,
                    device=dev,
                    download_weights=download_weights,
                )
                cached.save(out)
            return cached
    if ds is None:
        assert ds_error is not None
        raise ds_error

    config = {"preprocessing": pre_hash, "dataset": ds.fingerprint(), "precision": precision}
    config_hash = stable_hash(config)
    part_dir = out.parent / ".partial" / f"{out.stem}-{config_hash}"

    if isinstance(backbone, str):
        loaded = bb.load_backbone(spec.name, dev, download=download_weights)
    else:
        loaded = _load_custom(spec, dev, download_weights)
    if num_workers is None:
        num_workers = min(8, os.cpu_count() or 1) if dev.type == "cuda" else 0

    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    ids: dict[str, list[str]] = {}
    skipped: list[dict[str, str]] = []
    timing: dict[str, dict[str, float]] = {}
    for split_name in ("train", "test"):
        split = ds.splits.get(split_name)
        if split is None:
            continue
        x, idx, bad, stats = _extract_split(
            split_name,
            split,
            loaded.model,
            loaded.transform,
            dev,
            precision,
            int(batch_size),
            int(num_workers),
            int(chunk_size),
            part_dir,
            on_corrupt,
            progress,
            f"{ds.name} × {spec.name}",
        )
        labels = split.labels[idx]
        arrays[split_name] = (x, labels)
        ids[split_name] = [split.ids[int(i)] for i in idx]
        skipped += [dict(s, split=split_name) for s in bad]
        timing[split_name] = stats
    if spec.dim is not None and arrays["train"][0].shape[1] != spec.dim:
        raise InvalidInputError(
            f"{spec.name} produced {arrays['train'][0].shape[1]}-d features, expected {spec.dim}."
        )
    meta: dict[str, Any] = {
        "dataset": ds.name,
        "backbone": spec.name,
        "preprocessing_hash": pre_hash,
        "preprocessing": bb.preprocessing_description(spec, transform),
        "config_hash": config_hash,
        "dataset_fingerprint": ds.fingerprint(),
        "data_source": ds.source,
        "data_root": str(ds.root),
        "model": spec.weights,
        "weights_file": loaded.weights_file,
        "license": spec.license,
        "feature": spec.feature,
        "precision": precision,
        "device": str(dev),
        "device_name": torch.cuda.get_device_name(dev)
        if dev.type == "cuda"
        else platform.processor() or "cpu",
        "torch": torch.__version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        "n_images": {k: len(s) for k, s in ds.splits.items()},
        "n_skipped": len(skipped),
        "skipped": skipped[:1000],
        "ids": ids["train"],
        "test_ids": ids.get("test"),
        "extraction_seconds": {k: round(v["seconds"], 3) for k, v in timing.items()},
    }
    x_test, y_test = arrays.get("test", (None, None))
    emb = EmbeddingSet(
        arrays["train"][0], arrays["train"][1], x_test, y_test, classes=ds.classes, meta=meta
    )
    if want_text:
        emb = text_mod.add_text(
            emb,
            backbone=spec.name,
            templates=text_templates,
            class_names=class_names,
            device=dev,
            download_weights=download_weights,
        )
    emb.save(out)
    shutil.rmtree(part_dir, ignore_errors=True)
    try:
        (out.parent / ".partial").rmdir()
    except OSError:
        pass
    return emb


def _load_custom(spec: bb.BackboneSpec, dev: torch.device, download: bool) -> bb.Backbone:
    model, transform = spec.loader(spec, download and not _offline())
    model = model.eval().to(dev)
    return bb.Backbone(name=spec.name, model=model, transform=transform, spec=spec)
