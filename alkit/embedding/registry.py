"""The backbone registry: what is known of a backbone before its weights load, and loading it.

A backbone is registered by name (:func:`register`) or resolved on demand from a name pattern
(:func:`register_pattern`, e.g. ``openclip:<arch>:<tag>``). The built-in backbones are
registered in one place, :mod:`alkit.embedding.backbones`; the families' loaders live in
:mod:`~alkit.embedding.openclip`, :mod:`~alkit.embedding.dinov2` and
:mod:`~alkit.embedding.torchvision_backbones`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._files import alkit_home, stable_hash
from ..errors import InvalidInputError, MissingResourceError, UnknownNameError

__all__ = [
    "Backbone",
    "BackboneSpec",
    "register",
    "register_pattern",
    "available",
    "info",
    "get_spec",
    "load_backbone",
    "weights_dir",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Loader = Callable[["BackboneSpec", bool], tuple[nn.Module, Callable]]


@dataclass
class BackboneSpec:
    """What the registry knows about a backbone before its weights are loaded.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"dinov2:vitg14"``.
    family : str
        ``openclip``, ``dinov2``, ``torchvision`` or ``custom``.
    dim : int or None
        Output feature dimension (None: found on the first batch).
    license : str
        Licence of the weights.
    weights : str
        Weights tag or file that identifies the parameters (provenance).
    weights_size : str
        Approximate download size, for messages.
    feature : str
        How the feature vector is defined.
    summary : str
        One line for tables.
    paper : bool
        Used in Gupte et al. (2024).
    loader : callable
        ``loader(spec, download) -> (module, transform)``.
    transform_factory : callable, optional
        Builds the eval transform without loading weights (cache keys); defaults to the loader's.
    options : dict
        Family-specific settings (timm kwargs, open_clip arch/tag, ...).
    """

    name: str
    family: str
    loader: Loader
    dim: int | None = None
    license: str = "unknown"
    weights: str = ""
    weights_size: str = "unknown"
    feature: str = ""
    summary: str = ""
    paper: bool = False
    transform_factory: Callable[[], Callable] | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def transform(self) -> Callable:
        """The eval transform (PIL image -> (3, H, W) float tensor), without loading weights."""
        if self.transform_factory is not None:
            return self.transform_factory()
        return self.loader(self, False)[1]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "family": self.family,
            "dim": self.dim,
            "license": self.license,
            "weights": self.weights,
            "weights_size": self.weights_size,
            "feature": self.feature,
            "summary": self.summary,
            "paper": self.paper,
        }


@dataclass
class Backbone:
    """A loaded backbone: ``model(x)`` maps a (B, 3, H, W) batch to (B, d) features.

    Attributes
    ----------
    name : str
        Registry name (or the name given to a user module).
    model : torch.nn.Module
        In eval mode; its output is the feature vector.
    transform : callable
        PIL image -> (3, H, W) float tensor.
    spec : BackboneSpec
        Registry entry (licence, weights tag, ...).
    weights_file : str or None
        The file the weights came from (provenance).
    """

    name: str
    model: nn.Module
    transform: Callable
    spec: BackboneSpec
    weights_file: str | None = None

    @property
    def dim(self) -> int | None:
        return self.spec.dim


_REGISTRY: dict[str, BackboneSpec] = {}
#: ``prefix -> resolver(parts) -> BackboneSpec | None`` for names built on demand.
_PATTERNS: dict[str, Callable[[list[str]], BackboneSpec | None]] = {}
_PATTERN_HELP: list[str] = []


def weights_dir() -> Path:
    """Where alkit looks for model weights first: ``$ALKIT_HOME/weights``."""
    return alkit_home() / "weights"


def _offline() -> bool:
    truthy = {"1", "true", "yes", "on"}
    return any(
        os.environ.get(v, "").strip().lower() in truthy for v in ("HF_HUB_OFFLINE", "ALKIT_OFFLINE")
    )


def transform_repr(transform: Callable) -> str:
    """A stable text form of a transform (memory addresses stripped), for hashing."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(transform))


def preprocessing_description(
    spec: BackboneSpec, transform: Callable | None = None
) -> dict[str, Any]:
    """What determines the features besides the images: backbone, weights, transform, feature."""
    transform = spec.transform() if transform is None else transform
    return {
        "backbone": spec.name,
        "weights": spec.weights,
        "feature": spec.feature,
        "transform": transform_repr(transform),
        "options": {k: str(v) for k, v in sorted(spec.options.items()) if not k.startswith("_")},
    }


def preprocessing_hash(spec: BackboneSpec, transform: Callable | None = None) -> str:
    """Short hash of :func:`preprocessing_description`."""
    return stable_hash(preprocessing_description(spec, transform))


# --------------------------------------------------------------------------- registry API
def register(
    name: str,
    loader: Callable[..., tuple[nn.Module, Callable]] | BackboneSpec,
    *,
    dim: int | None = None,
    license: str = "unknown",
    weights: str = "",
    weights_size: str = "unknown",
    feature: str = "model output",
    summary: str = "",
    transform: Callable[[], Callable] | None = None,
    overwrite: bool = False,
) -> BackboneSpec:
    """Register a backbone under ``name``.

    Parameters
    ----------
    name : str
        Registry name; use your own prefix (``"mylab:resnet"``).
    loader : callable or BackboneSpec
        ``loader(download: bool) -> (module, transform)``; the module maps (B, 3, H, W) to (B, d).
    dim, license, weights, weights_size, feature, summary
        Metadata shown by :func:`info` and written into the cache's provenance.
    transform : callable, optional
        Zero-argument factory of the eval transform (lets a cache hit skip loading weights).
    overwrite : bool
        Replace an existing entry.

    Returns
    -------
    BackboneSpec
    """
    if name in _REGISTRY and not overwrite:
        raise InvalidInputError(
            f"Backbone {name!r} is already registered; pass overwrite=True to replace it."
        )
    if isinstance(loader, BackboneSpec):
        spec = loader
        spec.name = name
    else:
        user_loader = loader
        spec = BackboneSpec(
            name=name,
            family="custom",
            loader=lambda _spec, download: user_loader(download),
            dim=dim,
            license=license,
            weights=weights or name,
            weights_size=weights_size,
            feature=feature,
            summary=summary,
            transform_factory=transform,
        )
    _REGISTRY[name] = spec
    return spec


def available() -> list[str]:
    """Registered backbone names (``openclip:…``, ``dinov2:…``, ``torchvision:…`` and yours).

    Other ``openclip:<arch>:<tag>`` pairs and any ``torchvision:<model>`` resolve on demand.
    """
    return sorted(_REGISTRY)


def get_spec(name: str) -> BackboneSpec:
    """The :class:`BackboneSpec` of ``name`` (registered, or an on-demand openclip/torchvision name).

    Raises
    ------
    UnknownNameError
        Listing the registered names and the name patterns.
    """
    if name in _REGISTRY:
        return _REGISTRY[name]
    parts = name.split(":") if isinstance(name, str) else []
    resolver = _PATTERNS.get(parts[0]) if parts else None
    spec = resolver(parts) if resolver is not None else None
    if spec is not None:
        return spec
    raise UnknownNameError(
        f"Unknown backbone {name!r}. Registered: {available()}. Patterns: "
        f"{', '.join(_PATTERN_HELP)}, or pass your own (torch.nn.Module, transform) pair / "
        "register it with alkit.embedding.backbones.register()."
    )


def register_pattern(
    prefix: str, resolver: Callable[[list[str]], BackboneSpec | None], help: str
) -> None:
    """Resolve names ``<prefix>:…`` that are not registered with ``resolver(name.split(":"))``.

    ``resolver`` returns a :class:`BackboneSpec`, or ``None`` when the name does not fit the
    pattern; ``help`` (e.g. ``"'torchvision:<model>[:random]'"``) is shown in errors.
    """
    _PATTERNS[prefix] = resolver
    _PATTERN_HELP.append(help)


def info(name: str) -> dict[str, Any]:
    """Dimension, licence, weights and feature definition of a backbone (no weights loaded)."""
    return get_spec(name).describe()


def load_backbone(name: str, device: str | torch.device = "cpu", download: bool = True) -> Backbone:
    """Load a backbone's weights and return it in eval mode on ``device``.

    Parameters
    ----------
    name : str
        Registry name.
    device : str or torch.device
        Where to put the model.
    download : bool
        Allow fetching missing weights (ignored when ``HF_HUB_OFFLINE``/``ALKIT_OFFLINE`` is set).

    Raises
    ------
    MissingResourceError
        When the weights are not on disk and cannot be fetched; the message says what to get and where.
    """
    spec = get_spec(name)
    model, transform = spec.loader(spec, download and not _offline())
    model = model.eval().to(device)
    for p in model.parameters():
        p.requires_grad_(False)
    return Backbone(
        name=name,
        model=model,
        transform=transform,
        spec=spec,
        weights_file=spec.options.get("_weights_file"),
    )


# --------------------------------------------------------------------------- weights files
def _missing(what: str, filename: str, size: str, dest: Path, how: str) -> MissingResourceError:
    offline = (
        " (offline mode: HF_HUB_OFFLINE/ALKIT_OFFLINE is set, so nothing was downloaded)"
        if _offline()
        else ""
    )
    return MissingResourceError(
        f"Weights for {what} are not on disk{offline}. Fetch {filename} (~{size}) {how} and put it at {dest} "
        f"(ALKIT_HOME={alkit_home()}; set ALKIT_HOME to move it), or rerun with downloads allowed."
    )


def _hf_cached(repo_id: str, filename: str) -> str | None:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub ships with timm/open_clip
        return None
    try:
        got = try_to_load_from_cache(repo_id, filename)
    except Exception:
        return None
    return got if isinstance(got, str) and os.path.isfile(got) else None


HUB_CONNECT_TIMEOUT = 3.0  # seconds to reach the Hugging Face Hub before calling it offline


def _hub_reachable(timeout: float = HUB_CONNECT_TIMEOUT) -> bool:
    """Whether a TCP connection to the Hub's host opens within ``timeout`` seconds.

    huggingface_hub retries failed connections with back-off (about a minute in all); one quick
    connection attempt first lets an offline machine fail in seconds, naming the file to fetch.
    """
    import socket
    from urllib.parse import urlparse

    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        with socket.create_connection((url.hostname, url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _hf_download(repo_id: str, filename: str) -> str:
    """One download attempt through huggingface_hub, after a quick check that the Hub answers."""
    if not _hub_reachable():
        raise OSError("the Hugging Face Hub is unreachable (offline?)")
    from huggingface_hub import hf_hub_download

    return hf_hub_download(repo_id=repo_id, filename=filename)
