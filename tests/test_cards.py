"""Data cards: every card validates, class counts are the known numbers, status table."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest
import yaml

from alkit import cards, catalog
from alkit.errors import InvalidInputError, UnknownNameError

EXPECTED = {
    "cifar100": 100,
    "food101": 101,
    "stanford_cars": 196,
    "fgvc_aircraft": 100,
    "oxford_pets": 37,
    "places365": 365,
    "imagenet100": 100,
    "domainnet_real": 345,
    "blood_smear": 8,
    "diabetic_retinopathy": 5,
    "iicbu_hela": 10,
    "ham10000": 7,
    "cifar10": 10,
    "dtd": 47,
    "flowers102": 102,
    "patch_camelyon": 2,
}
PAPER_BACKBONE = {
    "stanford_cars": "openclip:ViT-bigG-14:laion2b_s39b_b160k",
    "fgvc_aircraft": "openclip:ViT-bigG-14:laion2b_s39b_b160k",
    "oxford_pets": "openclip:ViT-bigG-14:laion2b_s39b_b160k",
    "places365": "openclip:ViT-bigG-14:laion2b_s39b_b160k",
}


def test_every_card_is_shipped_and_valid():
    assert set(cards.available_cards()) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_card_class_count_and_fields(name):
    card = cards.load_card(name)
    assert card.n_classes == EXPECTED[name] and len(set(card.classes)) == EXPECTED[name]
    assert card.paper["backbone"] == PAPER_BACKBONE.get(name, "dinov2:vitg14")
    assert card.splits["train"]["count"] == "unknown" or card.splits["train"]["count"] > 0
    assert card.license and card.citation and card.obtain["instructions"]
    from alkit.embedding.backbones import get_spec

    get_spec(card.paper["backbone"])  # the paper backbone is in the registry


def test_known_class_names_and_order():
    assert cards.load_card("cifar100").classes[:3] == ["apple", "aquarium_fish", "baby"]
    assert cards.load_card("stanford_cars").classes[0] == "AM General Hummer SUV 2000"
    assert cards.load_card("stanford_cars").classes[-1] == "smart fortwo Convertible 2012"
    assert cards.load_card("oxford_pets").classes[:3] == [
        "Abyssinian",
        "American Bulldog",
        "American Pit Bull Terrier",
    ]
    assert cards.load_card("places365").classes[0] == "/a/airfield"
    assert cards.load_card("dtd").classes[-1] == "zigzagged"
    assert cards.load_card("fgvc_aircraft").classes[0] == "707-320"
    inet = cards.load_card("imagenet100")
    assert inet.class_ids == sorted(inet.class_ids) and inet.class_ids[0] == "n01558993"
    assert cards.load_card("blood_smear").classes == [
        "basophil",
        "eosinophil",
        "erythroblast",
        "ig",
        "lymphocyte",
        "monocyte",
        "neutrophil",
        "platelet",
    ]
    dn = cards.load_card("domainnet_real").classes
    assert dn[0] == "aircraft_carrier" and dn.index("The_Eiffel_Tower") == dn.index("tent") + 1


def test_biomedical_splits_are_not_pretended():
    for name in ("blood_smear", "diabetic_retinopathy", "iicbu_hela", "ham10000"):
        card = cards.load_card(name)
        assert card.domain == "biomedical" and card.splits["train"]["count"] == "unknown"
        assert "unknown" in card.paper["split"] and card.substitutes


def _raw(name="cifar100"):
    return yaml.safe_load((cards._cards_dir() / f"{name}.yaml").read_text())


@pytest.mark.parametrize(
    "mutate,match",
    [
        (lambda d: d.pop("license"), "missing field 'license'"),
        (lambda d: d.__setitem__("classes", d["classes"] + ["apple"]), "duplicate class names"),
        (
            lambda d: d["splits"]["train"].__setitem__("count", -3),
            "non-negative integer or 'unknown'",
        ),
        (lambda d: d["loader"].__setitem__("type", "ftp"), "loader.type"),
        (lambda d: d.__setitem__("class_ids", ["x"]), "class_ids has 1 entries"),
        (lambda d: d.__setitem__("colour", "blue"), "unknown fields"),
        (lambda d: d["splits"].pop("train"), "must include 'train'"),
    ],
)
def test_schema_catches_errors(mutate, match):
    data = copy.deepcopy(_raw())
    assert cards.validate_card(data) == []
    mutate(data)
    assert any(match in e for e in cards.validate_card(data, "x.yaml"))


def test_load_card_errors(tmp_path, monkeypatch):
    with pytest.raises(UnknownNameError, match="cifar100"):
        cards.load_card("cifar1000")
    data = _raw()
    data.pop("citation")
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(dict(data, name="broken")))
    monkeypatch.setenv("ALKIT_CARDS", str(tmp_path))
    assert "broken" in cards.available_cards()
    with pytest.raises(InvalidInputError, match="missing field 'citation'"):
        cards.load_card("broken")


def test_datasets_status_table():
    df = catalog.datasets_status()
    assert len(df) == len(EXPECTED) and {"name", "classes", "data", "dinov2:vitg14"} <= set(
        df.columns
    )
    assert not df["data"].any()  # empty ALKIT_HOME
    assert dict(zip(df["name"], df["classes"])) == EXPECTED


# ------------------------------------------------------------------ repository layout
ROOT = Path(__file__).resolve().parents[1]


def test_every_card_in_data_cards_is_available():
    on_disk = {p.stem for p in (ROOT / "data_cards").glob("*.yaml")}
    assert on_disk == set(EXPECTED)
    assert on_disk <= set(cards.available_cards())


def test_repository_has_no_symlinks():
    # symlinks are two paths for one thing and break on Windows checkouts
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    links = [
        line.split("\t", 1)[1] for line in proc.stdout.splitlines() if line.startswith("120000")
    ]
    assert links == []


def test_pyproject_lists_every_package():
    # pyproject.toml lists the packages (data_cards/ is mapped to alkit.data_cards), so a new
    # subpackage must be added there or the wheel silently lacks it
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "alkit").rglob("*.py")
    } | {"alkit.grids"}
    assert listed == on_disk | {"alkit.data_cards"}
    assert config["package-dir"] == {"alkit.data_cards": "data_cards"}
