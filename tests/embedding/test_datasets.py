"""Data set loaders: ImageFolder, split files, CSV lists, data cards; clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

from alkit.embedding import datasets
from alkit.errors import InvalidInputError, MissingResourceError, UnknownNameError

from .conftest import CLASSES


def test_image_folder_labels_follow_folders(shapes_root):
    ds = datasets.image_folder(shapes_root)
    assert ds.name == "shapes" and ds.classes == list(CLASSES)
    assert len(ds.splits["train"]) == 210 and len(ds.splits["test"]) == 60
    tr = ds.splits["train"]
    for i in range(0, 210, 17):
        assert tr.ids[i].split("/")[1] == CLASSES[tr.labels[i]]
    assert tr.load(0).mode == "RGB" and tr.load(0).size == (32, 32)


def test_image_folder_rejects_unknown_class_folder(shapes_root):
    with pytest.raises(InvalidInputError, match="not in the class list"):
        datasets.image_folder(shapes_root, classes=["circle", "square"])
    with pytest.raises(MissingResourceError, match="does not exist"):
        datasets.image_folder(shapes_root / "nope")


def test_split_files(shapes_root, tmp_path):
    lines = [f"train/{c}/{c}_{i:03d}.png {k}" for k, c in enumerate(CLASSES) for i in range(5)]
    (tmp_path / "tr.txt").write_text("\n".join(lines) + "\n")
    ds = datasets.split_files(
        shapes_root, {"train": str(tmp_path / "tr.txt")}, list(CLASSES), name="s"
    )
    assert (
        len(ds.splits["train"]) == 15
        and ds.splits["train"].labels.tolist() == [0] * 5 + [1] * 5 + [2] * 5
    )
    (tmp_path / "bad.txt").write_text(
        "train/circle/circle_000.png 0\ntrain/circle/circle_001.png 7\n"
    )
    with pytest.raises(InvalidInputError, match=r"bad.txt:2: label 7 outside"):
        datasets.split_files(shapes_root, {"train": str(tmp_path / "bad.txt")}, list(CLASSES))
    with pytest.raises(MissingResourceError, match="Split file"):
        datasets.split_files(shapes_root, {"train": "missing.txt"}, list(CLASSES))


def test_csv_list_names_indices_and_unknown(shapes_root, tmp_path):
    csv = tmp_path / "imgs.csv"
    csv.write_text(
        "path,label,split\n"
        f"{shapes_root}/train/circle/circle_000.png,circle,train\n"
        f"{shapes_root}/train/square/square_000.png,,train\n"
        f"{shapes_root}/test/square/square_001.png,square,test\n"
    )
    ds = datasets.csv_list(csv)
    assert ds.classes == ["circle", "square"]
    assert ds.splits["train"].labels.tolist() == [0, -1] and ds.splits["test"].labels.tolist() == [
        1
    ]


@pytest.mark.parametrize(
    "body,match",
    [
        ("a.png,circle,train,extra\n", r":2: 4 fields but the header has 3"),
        (",circle,train\n", r":2: empty 'path'"),
        ("a.png,circle,validation\n", r":2: split must be"),
        ("a.png,circle,train\nb.png,hexagon,train\n", r":3: label 'hexagon' is neither"),
        ("a.png,,test\n", r":2: test rows need a label"),
    ],
)
def test_csv_unreadable_rows_name_the_line(tmp_path, body, match):
    csv = tmp_path / "x.csv"
    csv.write_text("path,label,split\n" + body)
    with pytest.raises(InvalidInputError, match=match):
        datasets.csv_list(csv, classes=["circle", "square"])


def test_csv_needs_path_column(tmp_path):
    (tmp_path / "x.csv").write_text("file,label\na.png,0\n")
    with pytest.raises(InvalidInputError, match="'path,label'"):
        datasets.csv_list(tmp_path / "x.csv")


def test_missing_card_data_names_size_and_location(tmp_path):
    with pytest.raises(MissingResourceError) as err:
        datasets.load_dataset("cifar100")
    msg = str(err.value)
    assert "cifar100" in msg and "161 MB" in msg and "data/cifar100" in msg and "CIFAR100" in msg
    with pytest.raises(UnknownNameError, match="not a data card"):
        datasets.load_dataset("no_such_set")


def test_card_image_folder_loader(shapes_root, tmp_path):
    """A biomedical card (image_folder layout) loads a tree arranged as its card says."""
    import shutil

    from alkit.cards import load_card
    from alkit.catalog import datasets_status

    card = load_card("blood_smear")
    root = datasets.data_root("blood_smear")
    for split in ("train", "test"):
        for k, cls in enumerate(card.classes[:3]):
            d = root / split / cls
            d.mkdir(parents=True)
            for f in sorted((shapes_root / split / CLASSES[k]).iterdir())[:4]:
                shutil.copy(f, d / f.name)
    ds = datasets.from_card(card)
    assert ds.classes == card.classes and len(ds.splits["train"]) == 12
    assert sorted(set(ds.splits["train"].labels.tolist())) == [0, 1, 2]
    status = datasets_status().set_index("name")
    assert bool(status.loc["blood_smear", "data"]) and not bool(status.loc["cifar100", "data"])


def test_sixteen_bit_images_are_scaled_not_clipped(tmp_path):
    from PIL import Image

    a = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 15  # up to ~61k
    Image.fromarray(a).save(tmp_path / "x.tif")
    split = datasets.FileSplit(tmp_path, ["x.tif"], np.array([0]))
    rgb = np.asarray(split.load(0))
    assert rgb.shape == (64, 64, 3) and rgb.max() == 255 and rgb.min() == 0
    assert len(np.unique(rgb[..., 0])) > 200  # a clip at 255 would leave almost one value
