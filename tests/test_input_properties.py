"""Property-based tests (hypothesis) of the entry points whose inputs vary most:
:class:`EmbeddingSet` (construction and save/load), :meth:`ActiveLearner.teach` and the labels
CSV reader :func:`alkit.oracle.read_labels_csv`."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import alkit
from alkit import ActiveLearner, EmbeddingSet
from alkit.errors import InvalidInputError
from alkit.oracle import read_labels_csv

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FINITE = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32)


# ------------------------------------------------------------------------------ EmbeddingSet
@st.composite
def labeled_sets(draw):
    """Features (n, d) and labels that use every class 0..C-1 (some rows unknown, -1)."""
    n_classes = draw(st.integers(1, 5))
    n = draw(st.integers(n_classes, 24))
    d = draw(st.integers(1, 6))
    x = draw(hnp.arrays(np.float32, (n, d), elements=FINITE))
    extra = draw(st.lists(st.integers(-1, n_classes - 1), min_size=n - n_classes,
                          max_size=n - n_classes))  # fmt: skip
    order = draw(st.permutations(range(n)))
    y = np.array(list(range(n_classes)) + extra, dtype=np.int64)[list(order)]
    with_test = draw(st.booleans())
    test = None
    if with_test:
        m = draw(st.integers(1, 6))
        test = (
            draw(hnp.arrays(np.float32, (m, d), elements=FINITE)),
            np.array(draw(st.lists(st.integers(0, n_classes - 1), min_size=m, max_size=m))),
        )
    return x, y, test, n_classes


def assert_same_set(a: EmbeddingSet, b: EmbeddingSet) -> None:
    for key in ("x_train", "y_train", "x_test", "y_test"):
        left, right = getattr(a, key), getattr(b, key)
        if left is None:
            assert right is None
            continue
        assert left.dtype == right.dtype and left.shape == right.shape
        assert left.tobytes() == right.tobytes()  # bit-exact, -0.0 included
    assert a.classes == b.classes
    assert a.checksum == b.checksum == b.meta["checksum"]
    assert {k: b.meta[k] for k in a.meta if k != "created"} == {
        k: v for k, v in a.meta.items() if k != "created"
    }


@SETTINGS
@given(labeled_sets(), st.sampled_from(["set.npz", "set_dir"]))
def test_embeddingset_round_trips_exactly(data, name):
    x, y, test, n_classes = data
    emb = EmbeddingSet(x, y, *(test or ()), meta={"dataset": "prop", "backbone": "none"})
    assert emb.classes == [str(i) for i in range(n_classes)]
    assert emb.x_train.dtype == np.float32 and emb.y_train.dtype == np.int64
    assert np.array_equal(emb.y_train, y)
    with tempfile.TemporaryDirectory() as tmp:
        path = emb.save(Path(tmp) / name)
        back = EmbeddingSet.load(path)
        assert_same_set(emb, back)
        assert_same_set(emb, alkit.load_embeddings(str(path)))


@SETTINGS
@given(labeled_sets(), st.data())
def test_embeddingset_labels_with_a_gap_raise_without_classes(data, draw):
    x, y, test, n_classes = data
    assume(n_classes >= 2)
    # relabel one class id away: ids 0..C-1 minus `gone`, so the top id remains and `gone` is empty
    gone = draw.draw(st.integers(0, n_classes - 2))
    y = np.where(y == gone, n_classes - 1, y)
    if test is not None:
        test = (test[0], np.where(test[1] == gone, n_classes - 1, test[1]))
    with pytest.raises(InvalidInputError, match="have no example") as info:
        EmbeddingSet(x, y, *(test or ()))
    assert f"ids {gone} (1 of them)" in str(info.value)
    # naming every class makes the same labels valid (the empty class exists)
    names = [f"c{i}" for i in range(n_classes)]
    assert EmbeddingSet(x, y, *(test or ()), classes=names).n_classes == n_classes


# ------------------------------------------------------------------------------------ teach
N_POOL, N_CLASSES = 60, 3


@pytest.fixture(scope="module")
def pool_set():
    return alkit.load_embeddings(f"synthetic:N={N_POOL},d=4,C={N_CLASSES},seed=0")


@st.composite
def batches(draw):
    """Disjoint batches of pool rows, each with labels as class indices or class names."""
    rows = draw(st.lists(st.integers(0, N_POOL - 1), unique=True, min_size=1, max_size=30))
    cuts = sorted(draw(st.lists(st.integers(1, len(rows)), max_size=4)))
    out, start = [], 0
    for stop in [*cuts, len(rows)]:
        if stop > start:
            idx = rows[start:stop]
            labels = draw(st.lists(st.integers(0, N_CLASSES - 1), min_size=len(idx),
                                   max_size=len(idx)))  # fmt: skip
            as_names = draw(st.booleans())
            out.append((idx, labels, as_names))
            start = stop
    return out


def snapshot(learner):
    return learner.pool.labeled.copy(), learner.pool.labels.copy(), list(learner.acquired)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches(), st.data())
def test_teach_records_exactly_what_was_taught(pool_set, taught, data):
    learner = ActiveLearner(pool_set, strategy="random", probe={"max_epochs": 2}, device="cpu")
    expected = np.full(N_POOL, -1)
    for idx, labels, as_names in taught:
        given_labels = [learner.classes[c] for c in labels] if as_names else labels
        learner.teach(idx, given_labels)
        expected[idx] = labels
    assert np.array_equal(learner.pool.labels, expected)
    assert np.array_equal(learner.pool.labeled, expected >= 0)
    assert learner.acquired == [i for idx, _, _ in taught for i in idx]

    # teaching any taught row again (alone or with fresh rows) raises and changes nothing
    done = [i for idx, _, _ in taught for i in idx]
    fresh = sorted(set(range(N_POOL)) - set(done))
    again = data.draw(st.sampled_from(done))
    extra = data.draw(st.lists(st.sampled_from(fresh), unique=True, max_size=3)) if fresh else []
    rows = data.draw(st.permutations([again, *extra]))
    labels = data.draw(st.lists(st.integers(0, N_CLASSES - 1), min_size=len(rows),
                                max_size=len(rows)))  # fmt: skip
    before = snapshot(learner)
    with pytest.raises(InvalidInputError, match=rf"index {again} is already labeled"):
        learner.teach(list(rows), labels)
    after = snapshot(learner)
    assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])
    assert before[2] == after[2]


# ----------------------------------------------------------------------------- labels CSV
NAME_CHARS = st.sampled_from(list("abcXYZ019 ,;'\"-_é"))
CLASS_NAME = st.text(NAME_CHARS, min_size=1, max_size=8).filter(
    lambda s: s == s.strip() and not re.fullmatch(r"\d+", s)
)
CELL = st.text(NAME_CHARS, max_size=6)


@st.composite
def label_files(draw):
    """A labels CSV as the csv module writes it, its class names and the filled rows."""
    classes = draw(st.lists(CLASS_NAME, min_size=2, max_size=5, unique=True))
    n_extra = draw(st.integers(0, 3))
    extra_names = [f"extra{i}" for i in range(n_extra)]
    header = draw(st.permutations(["index", "label", *extra_names]))
    indices = draw(st.lists(st.integers(0, 99), unique=True, max_size=12))
    rows, filled = [], []
    for index in indices:
        blank = draw(st.booleans())
        label = draw(st.sampled_from(["", " "])) if blank else draw(st.sampled_from(classes))
        if not blank:
            filled.append((index, classes.index(label)))
        pad = draw(st.sampled_from(["", " "]))
        cells = {"index": f"{pad}{index}{pad}", "label": label}
        cells.update({name: draw(CELL) for name in extra_names})
        rows.append([cells[c] for c in header])
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    return classes, list(header), rows, filled, quoting


def write_csv(header, rows, quoting) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=quoting)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def read(text: str, classes):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "labels.csv"
        path.write_text(text, encoding="utf-8")
        return read_labels_csv(path, classes, n_rows=100)


@SETTINGS
@given(label_files())
def test_read_labels_csv_returns_exactly_the_filled_rows(spec):
    classes, header, rows, filled, quoting = spec
    indices, labels = read(write_csv(header, rows, quoting), classes)
    assert indices.dtype == np.int64 and labels.dtype == np.int64
    assert list(zip(indices.tolist(), labels.tolist())) == filled


def row_error(text: str, classes, row_number: int) -> str:
    with pytest.raises(InvalidInputError) as info:
        read(text, classes)
    message = str(info.value)
    assert re.search(rf"row {row_number}\b", message), message
    return message


@SETTINGS
@given(label_files(), st.data())
def test_read_labels_csv_names_the_row_with_a_wrong_field_count(spec, data):
    classes, header, rows, _, quoting = spec
    assume(rows)
    k = data.draw(st.integers(0, len(rows) - 1))
    bad = list(rows[k])
    bad[header.index("index")] = "0"  # a row that cannot pass for a blank line
    if data.draw(st.booleans()):
        bad.append(data.draw(CELL))
    else:  # drop a field other than the index, so the row keeps a non-blank cell
        bad.pop(data.draw(st.sampled_from([i for i in range(len(bad)) if header[i] != "index"])))
    rows = [*rows[:k], bad, *rows[k + 1 :]]
    message = row_error(write_csv(header, rows, quoting), classes, k + 2)
    assert f"has {len(bad)} fields but the header has {len(header)}" in message


@SETTINGS
@given(label_files(), st.data())
def test_read_labels_csv_names_the_row_with_a_non_integer_index(spec, data):
    classes, header, rows, _, quoting = spec
    assume(rows)
    k = data.draw(st.integers(0, len(rows) - 1))
    bad = list(rows[k])
    index = data.draw(st.sampled_from(["1.5", "abc", "", " ", "1e3", "2.0", "0x1", "½", "-1"]))
    bad[header.index("index")] = index
    bad[header.index("label")] = data.draw(st.sampled_from(classes))  # a filled row
    rows = [*rows[:k], bad, *rows[k + 1 :]]
    message = row_error(write_csv(header, rows, quoting), classes, k + 2)
    assert "index" in message
