"""Data cards: what each data set of the paper is, how to get it and how the paper used it.

One YAML file per data set ships in ``data_cards/`` (installed as ``alkit/data_cards``). A card
gives the full ordered class list, the splits and counts the paper used (``unknown`` where not
public), image size, licence and terms, citation, how to obtain the data (torchvision class, split
files or a manual download with its folder layout), the loader alkit uses, the paper's backbone
and known caveats.

>>> from alkit.cards import load_card
>>> card = load_card("cifar100")
>>> card.n_classes, card.paper["backbone"]
(100, 'dinov2:vitg14')
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import InvalidInputError, UnknownNameError

__all__ = [
    "DataCard",
    "load_card",
    "available_cards",
    "validate_card",
    "CARD_SCHEMA",
]

LOADER_TYPES = ("torchvision", "image_folder", "split_files")

CARD_SCHEMA: dict[str, tuple[type | tuple[type, ...], bool]] = {
    # field: (type, required)
    "name": (str, True),
    "title": (str, True),
    "domain": (str, True),
    "classes": (list, True),
    "class_ids": (list, False),
    "class_descriptions": (list, False),
    "splits": (dict, True),
    "image_size": (str, True),
    "license": (str, True),
    "terms": (str, True),
    "citation": (str, True),
    "homepage": (str, True),
    "size": (str, True),
    "obtain": (dict, True),
    "loader": (dict, True),
    "paper": (dict, True),
    "caveats": (list, True),
    "substitutes": (list, False),
}
"""Field -> (type, required). Extra rules are checked by :func:`validate_card`."""


@dataclass(frozen=True)
class DataCard:
    """A validated data card (see :data:`CARD_SCHEMA` for the fields)."""

    name: str
    title: str
    domain: str
    classes: list[str]
    splits: dict[str, dict[str, Any]]
    image_size: str
    license: str
    terms: str
    citation: str
    homepage: str
    size: str
    obtain: dict[str, Any]
    loader: dict[str, Any]
    paper: dict[str, Any]
    caveats: list[str]
    class_ids: list[str] | None = None
    class_descriptions: list[str] | None = None
    substitutes: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def validate_card(data: Any, source: str = "<card>") -> list[str]:
    """Problems with a card's content (empty list = valid).

    Checks required fields and types, unique non-empty class names, ``class_ids`` and
    ``class_descriptions`` of the same length, a ``train`` split, counts that are non-negative
    integers or ``"unknown"``, a known loader type with its required keys, and a paper backbone.
    """
    errs: list[str] = []
    if not isinstance(data, dict):
        return [f"{source}: a card must be a mapping, got {type(data).__name__}"]
    for key, (typ, required) in CARD_SCHEMA.items():
        if key not in data or data[key] is None:
            if required:
                errs.append(f"{source}: missing field {key!r}")
            continue
        if not isinstance(data[key], typ):
            errs.append(
                f"{source}: field {key!r} must be {getattr(typ, '__name__', typ)}, got {type(data[key]).__name__}"
            )
    unknown = sorted(set(data) - set(CARD_SCHEMA))
    if unknown:
        errs.append(f"{source}: unknown fields {unknown}")
    if errs:
        return errs
    classes = data["classes"]
    if not classes or not all(isinstance(c, str) and c.strip() for c in classes):
        errs.append(f"{source}: classes must be non-empty strings")
    elif len(set(classes)) != len(classes):
        dup = sorted({c for c in classes if classes.count(c) > 1})
        errs.append(f"{source}: duplicate class names {dup[:5]}")
    for extra in ("class_ids", "class_descriptions"):
        if data.get(extra) is not None and len(data[extra]) != len(classes):
            errs.append(
                f"{source}: {extra} has {len(data[extra])} entries for {len(classes)} classes"
            )
    if data.get("class_ids") is not None and len(set(data["class_ids"])) != len(data["class_ids"]):
        errs.append(f"{source}: duplicate class_ids")
    if data["domain"] not in ("natural", "biomedical"):
        errs.append(f"{source}: domain must be 'natural' or 'biomedical'")
    splits = data["splits"]
    if "train" not in splits:
        errs.append(f"{source}: splits must include 'train' (the AL pool)")
    for sname, s in splits.items():
        if not isinstance(s, dict) or "count" not in s or "source" not in s:
            errs.append(f"{source}: split {sname!r} needs 'source' and 'count'")
            continue
        c = s["count"]
        if not (c == "unknown" or (isinstance(c, int) and not isinstance(c, bool) and c >= 0)):
            errs.append(
                f"{source}: split {sname!r} count must be a non-negative integer or 'unknown', got {c!r}"
            )
    loader = data["loader"]
    kind = loader.get("type")
    if kind not in LOADER_TYPES:
        errs.append(f"{source}: loader.type must be one of {LOADER_TYPES}, got {kind!r}")
    need = {
        "torchvision": ("class", "splits"),
        "split_files": ("files",),
        "image_folder": ("train",),
    }.get(kind, ())
    for k in need:
        if k not in loader:
            errs.append(f"{source}: loader of type {kind!r} needs {k!r}")
    if not isinstance(loader.get("expect", []), list):
        errs.append(f"{source}: loader.expect must be a list of relative paths")
    for k in ("method", "instructions"):
        if k not in data["obtain"]:
            errs.append(f"{source}: obtain needs {k!r}")
    for k in ("backbone", "used"):
        if k not in data["paper"]:
            errs.append(f"{source}: paper needs {k!r}")
    if not all(isinstance(c, str) for c in data["caveats"]):
        errs.append(f"{source}: caveats must be strings")
    return errs


def _cards_dir():
    # A wheel installs the top-level data_cards/ as alkit/data_cards (pyproject.toml); a source
    # checkout or an editable install reads the top-level folder itself.
    shipped = resources.files("alkit") / "data_cards"
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parent.parent / "data_cards"


def available_cards() -> list[str]:
    """Names of the shipped data cards (plus ``$ALKIT_CARDS`` folders, if set)."""
    names = {Path(p.name).stem for p in _cards_dir().iterdir() if p.name.endswith(".yaml")}
    for extra in _extra_dirs():
        names |= {p.stem for p in extra.glob("*.yaml")}
    return sorted(names)


def _extra_dirs() -> list[Path]:
    env = os.environ.get("ALKIT_CARDS", "")
    return [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]


def load_card(name: str) -> DataCard:
    """Load and validate a data card by name.

    Raises
    ------
    UnknownNameError
        Listing the available cards.
    InvalidInputError
        If the YAML does not satisfy the schema (every problem listed).
    """
    text = source = None
    for extra in _extra_dirs():
        if (extra / f"{name}.yaml").is_file():
            source = str(extra / f"{name}.yaml")
            text = Path(source).read_text(encoding="utf-8")
    if text is None:
        res = _cards_dir() / f"{name}.yaml"
        if not res.is_file():
            raise UnknownNameError(
                f"No data card {name!r}; available: {', '.join(available_cards())}."
            )
        source, text = f"alkit/data_cards/{name}.yaml", res.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{source} is not valid YAML: {exc}") from exc
    errs = validate_card(data, source)
    if errs:
        raise InvalidInputError("Invalid data card:\n  " + "\n  ".join(errs))
    if data["name"] != name:
        raise InvalidInputError(
            f"{source}: name {data['name']!r} does not match the file name {name!r}."
        )
    return DataCard(**data, source=source)
