"""Class-name text embeddings of an OpenCLIP backbone: the zero-shot classifier of a data set.

For every class, each prompt template (``"a photo of a {}."``, …) is filled with the class name,
tokenised by open_clip's tokenizer and encoded by the text tower (``model.encode_text``); the
template embeddings are L2-normalised, averaged and the mean renormalised, as open_clip's
``build_zero_shot_classifier`` does (the prompt ensemble of Radford et al. 2021, §3.1.4). The
default templates are open_clip's 80 ``OPENAI_IMAGENET_TEMPLATES``.

:func:`class_text` computes them from a loaded model; :func:`add_text` adds them to an existing
cache entry without reading or re-embedding any image (``alkit embed --add-text``);
:func:`alkit.embedding.embed` stores them with every ``openclip:`` cache it writes.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._devices import resolve_device
from ..data import EmbeddingSet
from ..errors import InvalidInputError, MissingResourceError
from . import backbones as bb
from .registry import _offline

__all__ = [
    "default_templates",
    "read_templates",
    "prompt_names",
    "encode_class_texts",
    "class_text",
    "add_text",
    "text_stale",
    "is_clip",
]

TEXT_METHOD = (
    "open_clip tokenizer + model.encode_text per template, L2-normalised, averaged over the "
    "templates and renormalised (open_clip's build_zero_shot_classifier)"
)


def default_templates() -> list[str]:
    """open_clip's 80 OpenAI ImageNet prompt templates, as ``str.format`` patterns (``"{}"``)."""
    from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES

    return [t("{}") for t in OPENAI_IMAGENET_TEMPLATES]


def _check_templates(templates: Any, where: str = "templates") -> list[str]:
    if isinstance(templates, str) or not isinstance(templates, list | tuple) or not templates:
        raise InvalidInputError(f"{where} must be a non-empty list of strings with '{{}}'.")
    bad = [t for t in templates if not isinstance(t, str) or t.count("{}") != 1]
    if bad:
        raise InvalidInputError(
            f"{where}: every template holds the class name as '{{}}' exactly once, e.g. "
            f"'a photo of a {{}}.'; these do not: {bad[:3]}."
        )
    return list(templates)


def read_templates(path: str | os.PathLike) -> list[str]:
    """Prompt templates from a text file: one per line, ``{}`` where the class name goes; blank
    lines and lines starting with ``#`` are skipped."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingResourceError(f"No template file at {path}.")
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    return _check_templates([ln for ln in lines if ln and not ln.startswith("#")], str(path))


def prompt_names(classes: list[str], dataset: str | None = None) -> tuple[list[str], str]:
    """The names put into the templates, and where they came from.

    The data card's ``class_descriptions`` when the card of ``dataset`` has one per class (e.g.
    ``"immature granulocytes (promyelocytes, …)"`` for blood smears' ``ig``), else the class
    names with ``_`` read as a space (``aquarium_fish`` → ``aquarium fish``).
    """
    if dataset:
        from ..cards import available_cards, load_card

        if dataset in available_cards():
            card = load_card(dataset)
            if card.class_descriptions and list(card.classes) == list(classes):
                return list(card.class_descriptions), "class_descriptions"
    return [str(c).replace("_", " ") for c in classes], "classes"


@torch.inference_mode()
def encode_class_texts(
    model, tokenizer, names: list[str], templates: list[str], device: torch.device | str = "cpu"
) -> np.ndarray:
    """The prompt-ensemble embedding of every name, shape (len(names), d), float32, unit rows."""
    out = []
    for name in names:
        tokens = tokenizer([t.format(name) for t in templates]).to(device)
        e = model.encode_text(tokens).float()
        e = e / e.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        m = e.mean(dim=0)
        out.append((m / m.norm().clamp_min(1e-12)).cpu().numpy())
    return np.stack(out).astype(np.float32)


def is_clip(backbone: str) -> bool:
    """Whether ``backbone`` names an OpenCLIP model (which has a text tower)."""
    return isinstance(backbone, str) and backbone.startswith("openclip:")


def class_text(
    backbone: str,
    classes: list[str],
    *,
    dataset: str | None = None,
    templates: list[str] | str | os.PathLike | None = None,
    class_names: list[str] | None = None,
    device: str | torch.device = "auto",
    download_weights: bool = True,
) -> tuple[np.ndarray, dict]:
    """The class text embeddings of ``classes`` under the OpenCLIP ``backbone``, and their meta.

    Parameters
    ----------
    backbone : str
        ``openclip:<arch>:<tag>`` (the tag ``random`` gives the text tower of the same random
        model as its image tower).
    classes : list of str
        The class names, in label order.
    dataset : str, optional
        Its data card supplies ``class_descriptions`` (:func:`prompt_names`).
    templates : list of str or path, optional
        Prompt templates with ``{}`` (default: :func:`default_templates`), or a file of them.
    class_names : list of str, optional
        The names to put into the templates instead (one per class).

    Returns
    -------
    class_text : ndarray of shape (len(classes), d), float32
    meta : dict
        ``templates``, ``n_templates``, ``class_names``, ``names_from``, ``backbone``,
        ``model``, ``weights_file``, ``method``, ``created``: stored as ``meta["text"]``.
    """
    if not is_clip(backbone):
        raise InvalidInputError(
            f"Class text embeddings need an OpenCLIP backbone (openclip:<arch>:<tag>); "
            f"{backbone!r} has no text tower."
        )
    import open_clip

    if templates is None:
        templates = default_templates()
    elif isinstance(templates, str | os.PathLike):
        templates = read_templates(templates)
    templates = _check_templates(templates)
    if class_names is not None:
        if len(class_names) != len(classes):
            raise InvalidInputError(
                f"class_names has {len(class_names)} names for {len(classes)} classes."
            )
        names, source = [str(c) for c in class_names], "given"
    else:
        names, source = prompt_names(classes, dataset)
    spec = bb.get_spec(backbone)
    dev = resolve_device(device)
    from .openclip import create_clip

    model = create_clip(spec, download_weights and not _offline())
    model.visual = torch.nn.Identity()  # only the text tower is used: free the image tower
    model = model.to(dev)
    tokenizer = open_clip.get_tokenizer(spec.options["arch"])
    text = encode_class_texts(model, tokenizer, names, templates, dev)
    meta = {
        "templates": templates,
        "n_templates": len(templates),
        "class_names": names,
        "names_from": source,
        "backbone": spec.name,
        "model": spec.weights,
        "weights_file": spec.options.get("_weights_file"),
        "method": TEXT_METHOD,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(),
    }
    return text, meta


def add_text(
    embeddings: str | os.PathLike | EmbeddingSet,
    *,
    backbone: str | None = None,
    templates: list[str] | str | os.PathLike | None = None,
    class_names: list[str] | None = None,
    device: str | torch.device = "auto",
    download_weights: bool = True,
    save: bool = True,
) -> EmbeddingSet:
    """Add class text embeddings to an existing cache entry; no image is read or re-embedded.

    Parameters
    ----------
    embeddings : path, cache key or EmbeddingSet
        A file written by ``alkit embed`` (or ``EmbeddingSet.save``), a cached
        ``<dataset>__<backbone>`` key, or a loaded set.
    backbone : str, optional
        Default: the set's own ``meta["backbone"]`` (must be ``openclip:…``).
    templates, class_names
        As :func:`class_text`.
    save : bool
        Write the set back to its file (atomically; its checksum then covers the text
        embeddings). A loaded ``EmbeddingSet`` has no file and is only returned.

    Returns
    -------
    EmbeddingSet
        The same arrays with ``class_text`` and ``meta["text"]``.
    """
    from ..sources import resolve_path

    path = None
    if isinstance(embeddings, EmbeddingSet):
        emb = embeddings
    else:
        path = resolve_path(embeddings)
        if path is None:
            raise MissingResourceError(
                f"No embeddings at {embeddings!s}: pass a file written by alkit embed or a cached "
                "<dataset>__<backbone> key (see alkit datasets)."
            )
        emb = EmbeddingSet.load(path)
    backbone = backbone or emb.backbone
    if not emb.classes:
        raise InvalidInputError(f"{emb!r} has no class names to embed.")
    text, meta = class_text(
        backbone,
        emb.classes,
        dataset=emb.dataset,
        templates=templates,
        class_names=class_names,
        device=device,
        download_weights=download_weights,
    )
    out = emb.with_class_text(text, meta)
    if save and path is not None:
        out.save(path)
    return out


def text_stale(emb: EmbeddingSet, templates=None, class_names=None) -> bool:
    """Whether ``emb`` lacks the class texts asked for: none yet, or other templates (``None``:
    the defaults) or other class names."""
    meta = emb.meta.get("text") or {}
    if not emb.has_text:
        return True
    wanted = default_templates() if templates is None else list(templates)
    if meta.get("templates") != wanted:
        return True
    return class_names is not None and meta.get("class_names") != list(class_names)
