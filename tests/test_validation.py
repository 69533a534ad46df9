"""Unit tests of :mod:`alkit.validation`: each check accepts exactly what it documents, returns
the canonical type, and rejects the rest with a message naming the argument and the value."""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from alkit import validation as v
from alkit.errors import (
    AlkitError,
    BudgetError,
    EmptyPoolError,
    GridError,
    InvalidInputError,
    UnknownNameError,
)


def raises(call, error=InvalidInputError, *needles):
    """``call()`` raises exactly ``error``; returns the message after checking the needles."""
    with pytest.raises(AlkitError) as info:
        call()
    assert type(info.value) is error, f"{type(info.value).__name__}: {info.value}"
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    return message


def test_every_public_check_has_a_test():
    names = {n for n, _ in inspect.getmembers(sys.modules[__name__], inspect.isfunction)}
    for name in v.__all__:
        if name.isupper():
            continue  # constants
        assert any(n.startswith(f"test_{name}") for n in names), name


# ------------------------------------------------------------------------------------ scalars
@pytest.mark.parametrize("value", [0, 7, -3, np.int64(5), np.int8(-1), np.uint16(9), 2**70])
def test_check_int_accepts_integers_as_python_int(value):
    got = v.check_int(value, "n")
    assert got == int(value) and type(got) is int


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (3.0, "a float is not truncated"),
        (1.7, "1.7"),
        (np.float32(2.0), "float32"),
        ("3", "a string is not parsed"),
        (True, "True"),
        (np.bool_(False), "False"),
        (None, "None"),
        ([3], "[3]"),
        (float("nan"), "nan"),
    ],
)
def test_check_int_rejects_non_integers(value, needle):
    raises(lambda: v.check_int(value, "count"), InvalidInputError, "count", needle)


def test_check_int_bounds_error_class_and_hint():
    assert v.check_int(1, "k", min=1, max=3) == 1 and v.check_int(3, "k", min=1, max=3) == 3
    raises(lambda: v.check_int(0, "k", min=1, max=3), InvalidInputError, "k", "[1, 3]", "got 0")
    raises(lambda: v.check_int(4, "k", max=3), InvalidInputError, "≤ 3", "got 4")
    raises(lambda: v.check_int(-1, "k", min=0), InvalidInputError, "≥ 0", "-1")
    raises(lambda: v.check_int(0, "b", min=1, error=BudgetError), BudgetError, "b")
    msg = raises(lambda: v.check_int(1.5, "seed", hint="Seeds are exact."), InvalidInputError)
    assert msg.endswith("Seeds are exact.")


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 0.0), (3, 3.0), (0.5, 0.5), (np.float32(0.25), 0.25)]
)
def test_check_float_accepts_finite_numbers_as_python_float(value, expected):
    got = v.check_float(value, "lr")
    assert got == expected and type(got) is float


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("0.01", "a string is not parsed"),
        (True, "True"),
        (None, "None"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (-float("inf"), "-inf"),
        (1 + 2j, "complex"),
    ],
)
def test_check_float_rejects_non_numbers_and_non_finite(value, needle):
    raises(lambda: v.check_float(value, "lr"), InvalidInputError, "lr", needle)


@pytest.mark.parametrize(
    ("kw", "ok", "bad", "shown"),
    [
        ({"min": 0.0, "max": 1.0}, [0.0, 1.0, 0.5], [-0.1, 1.1], "[0.0, 1.0]"),
        ({"min": 0.0, "max": 1.0, "max_open": True}, [0.0, 0.999], [1.0], "[0.0, 1.0)"),
        ({"min": 0.0, "max": 1.0, "min_open": True}, [1.0, 1e-9], [0.0], "(0.0, 1.0]"),
        ({"min": 0.0, "min_open": True}, [1e-12, 5.0], [0.0, -1.0], "> 0.0"),
        ({"min": 0.0}, [0.0], [-1e-12], "≥ 0.0"),
        ({"max": 2.0, "max_open": True}, [1.99], [2.0], "< 2.0"),
        ({"max": 2.0}, [2.0], [2.01], "≤ 2.0"),
    ],
)
def test_check_float_open_and_closed_bounds(kw, ok, bad, shown):
    for value in ok:
        assert v.check_float(value, "x", **kw) == value
    for value in bad:
        raises(lambda value=value: v.check_float(value, "x", **kw), InvalidInputError, shown)


@pytest.mark.parametrize("value", [True, False, np.bool_(True), np.bool_(False)])
def test_check_bool_accepts_real_booleans(value):
    got = v.check_bool(value, "cluster")
    assert got is bool(value)


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("False", "Pass False (a boolean, not a string)"),
        ("yes", "Pass True"),
        (1, "Pass True"),
        (0, "Pass False"),
        ("maybe", "Pass a boolean."),
        (None, "Pass a boolean."),
        (2, "Pass a boolean."),
    ],
)
def test_check_bool_rejects_everything_else(value, needle):
    raises(
        lambda: v.check_bool(value, "cluster"), InvalidInputError, "cluster", repr(value), needle
    )


def test_check_bool_error_class():
    raises(lambda: v.check_bool("x", "flag", error=GridError), GridError, "flag")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[(s, True) for s in ("true", "TRUE", "True", "yes", "Yes", "on", "ON", "1", " true ")],
        *[(s, False) for s in ("false", "FALSE", "False", "no", "NO", "off", "Off", "0")],
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (np.int64(1), True),
        (np.bool_(False), False),
    ],
)
def test_parse_bool_accepts_documented_spellings(text, expected):
    assert v.parse_bool(text, "cluster") is expected
    assert v.parse_bool_or_none(text) is expected


@pytest.mark.parametrize("value", ["maybe", "", "  ", "t", "y", "2", 2, -1, None, 1.0, 0.0, []])
def test_parse_bool_rejects_other_values(value):
    raises(lambda: v.parse_bool(value, "cluster"), InvalidInputError, "cluster", repr(value))
    assert v.parse_bool_or_none(value) is None


def test_parse_bool_error_class():
    raises(lambda: v.parse_bool("maybe", "flag", error=GridError), GridError, "'maybe'")


@pytest.mark.parametrize(
    ("text", "expected"), [("12", 12), (" -3 ", -3), ("+4", 4), ("0", 0), (7, 7), ("007", 7)]
)
def test_parse_int_accepts_integer_text(text, expected):
    got = v.parse_int(text, "index")
    assert got == expected and type(got) is int


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("1.5", "'1.5'"),
        ("abc", "'abc'"),
        ("", "empty"),
        ("   ", "empty"),
        ("1e3", "'1e3'"),
        ("0x10", "'0x10'"),
        ("1_000", "'1_000'"),
        (3.0, "3.0"),
        (True, "True"),
        (None, "None"),
    ],
)
def test_parse_int_rejects_other_text(value, needle):
    raises(lambda: v.parse_int(value, "row 2: index"), InvalidInputError, "row 2: index", needle)


def test_parse_int_bounds_and_error_class():
    assert v.parse_int("0", "i", min=0) == 0
    raises(lambda: v.parse_int("-1", "i", min=0), InvalidInputError, "≥ 0", "-1")
    raises(lambda: v.parse_int("x", "i", error=GridError), GridError, "'x'")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3),
        ("0.5", 0.5),
        ("true", True),
        ("null", None),
        ("[1, 2]", [1, 2]),
        ('"x"', "x"),
        ("False", "False"),
        ("yes", "yes"),
        ("abc", "abc"),
        ("", ""),
    ],
)
def test_parse_value_reads_json_else_keeps_text(text, expected):
    assert v.parse_value(text) == expected


def test_check_str():
    assert v.check_str("a", "name") == "a"
    assert v.check_str("", "name", allow_empty=True) == ""
    raises(lambda: v.check_str("", "name"), InvalidInputError, "name", "''")
    raises(lambda: v.check_str("  ", "name"), InvalidInputError, "name", "'  '")
    raises(lambda: v.check_str(3, "name"), InvalidInputError, "name", "3", "int")
    raises(lambda: v.check_str(None, "name", error=GridError), GridError, "None")


@pytest.mark.parametrize(
    ("value", "choices", "expected"),
    [
        ("Entropy", ["entropy", "margin"], " Did you mean 'entropy'?"),
        ("ENTROPY", ["entropy", "margin"], " Did you mean 'entropy'?"),
        ("entropie", ["entropy", "margin"], " Did you mean 'entropy'?"),
        ("bn_momentun", ["bn_eps", "bn_momentum"], " Did you mean 'bn_momentum'?"),
        ("zzz", ["entropy", "margin"], ""),
        ("x", [], ""),
        (3, ["3", "4"], " Did you mean '3'?"),
    ],
)
def test_suggest(value, choices, expected):
    assert v.suggest(value, choices) == expected


def test_suggest_prefers_the_case_insensitive_match():
    # "cat" is closer to "bat" by edit distance, but "CAT" differs from "cat" only in case
    assert v.suggest("CAT", ["bat", "cat"]) == " Did you mean 'cat'?"


def test_check_choice():
    assert v.check_choice("largest", "delta_rule", ["largest", "reference"]) == "largest"
    assert v.check_choice(2, "k", [1, 2]) == 2
    raises(
        lambda: v.check_choice("Largest", "delta_rule", ["largest", "reference"]),
        InvalidInputError,
        "delta_rule",
        "'Largest'",
        "Did you mean 'largest'",
    )
    raises(lambda: v.check_choice(True, "k", [1, 2]), InvalidInputError, "True")
    raises(lambda: v.check_choice([1], "k", [1, 2]), InvalidInputError, "[1]")
    raises(lambda: v.check_choice({}, "k", [1, 2]), InvalidInputError, "{}")
    raises(lambda: v.check_choice("a", "k", ["b"], error=GridError), GridError, "'a'")


@pytest.mark.parametrize("seed", [0, 1, 2**40, np.int64(7), np.uint32(3)])
def test_check_seed_accepts_non_negative_integers(seed):
    got = v.check_seed(seed)
    assert got == int(seed) and type(got) is int


@pytest.mark.parametrize(
    ("seed", "needle"),
    [
        (1.7, "1.7"),
        (2.0, "a float is not truncated"),
        ("abc", "'abc'"),
        ("3", "'3'"),
        (None, "None"),
        (-1, "-1"),
        (True, "True"),
        (np.random.default_rng(0), "Generator"),
    ],
)
def test_check_seed_rejects_the_rest(seed, needle):
    raises(lambda: v.check_seed(seed, "run seed"), InvalidInputError, "run seed", needle)


def test_check_rng():
    rng = np.random.default_rng(0)
    assert v.check_rng(rng) is rng
    for bad, needle in [(0, "0"), (None, "None"), (np.random.RandomState(0), "RandomState")]:
        raises(lambda bad=bad: v.check_rng(bad, "gen"), InvalidInputError, "gen", needle)


def test_check_path(tmp_path):
    assert v.check_path("a.csv") == Path("a.csv")
    assert v.check_path(tmp_path) == tmp_path
    for bad, needle in [("", "''"), ("  ", "'  '"), (None, "None"), (42, "42"), (b"a", "b'a'")]:
        raises(lambda bad=bad: v.check_path(bad, "out"), InvalidInputError, "out", needle)


@pytest.mark.parametrize(
    ("device", "expected"),
    [(None, "auto"), ("auto", "auto"), ("cpu", "cpu"), ("cuda", "cuda"), ("cuda:1", "cuda:1")],
)
def test_check_device_accepts_spellings(device, expected):
    assert v.check_device(device) == expected


def test_check_device_accepts_torch_device():
    import torch

    assert v.check_device(torch.device("cpu")) == "cpu"


@pytest.mark.parametrize(
    ("device", "needle"),
    [
        ("gpu", "PyTorch calls the GPU 'cuda'"),
        ("GPU", "PyTorch calls the GPU 'cuda'"),
        ("CPU", "'CPU'"),
        ("cuda:", "'cuda:'"),
        ("cuda:x", "'cuda:x'"),
        ("", "''"),
        (0, "0"),
        (True, "True"),
    ],
)
def test_check_device_rejects_other_spellings(device, needle):
    raises(
        lambda: v.check_device(device, "probe device"), InvalidInputError, "probe device", needle
    )


def test_check_budget():
    assert v.check_budget(3, 5) == 3 and v.check_budget(5, 5) == 5
    assert type(v.check_budget(np.int64(2), 5)) is int
    raises(lambda: v.check_budget(6, 5), BudgetError, "budget=6", "5 unlabeled", "at most 5")
    raises(lambda: v.check_budget(1, 0), EmptyPoolError, "exhausted", "budget=1")
    for bad, needle in [(0, "0"), (-1, "-1"), (2.5, "2.5"), ("5", "'5'"), (True, "True")]:
        raises(lambda bad=bad: v.check_budget(bad, 10), BudgetError, "budget", needle)
    # an invalid budget is reported before the empty pool
    raises(lambda: v.check_budget(0, 0), BudgetError, "budget", "0")
    raises(lambda: v.check_budget(9, 4, "initial_budget"), BudgetError, "initial_budget=9")


def test_check_settings():
    valid = {"dropout": 0.75, "bn_momentum": 0.1}
    assert v.check_settings(None, "the probe", valid) == {}
    given = {"dropout": 0.5}
    got = v.check_settings(given, "the probe", valid)
    assert got == given and got is not given
    raises(lambda: v.check_settings([1], "the probe", valid), InvalidInputError, "the probe", "[1]")
    raises(lambda: v.check_settings({1: 2}, "the probe", valid), InvalidInputError, "1")
    msg = raises(
        lambda: v.check_settings({"bn_momentun": 1}, "the probe", valid, what="probe setting"),
        InvalidInputError,
        "the probe",
        "unknown probe setting(s) ['bn_momentun']",
        "dropout=0.75",
        "Did you mean 'bn_momentum'",
    )
    assert "valid:" in msg
    raises(lambda: v.check_settings({"x": 1}, "pool", {}), InvalidInputError, "valid: none")


# ------------------------------------------------------------------------------------- arrays
def test_check_features_returns_contiguous_float32():
    x = np.asfortranarray(np.arange(12, dtype=np.float64).reshape(4, 3))
    got = v.check_features(x, "x")
    assert got.dtype == np.float32 and got.flags.c_contiguous and np.array_equal(got, x)
    assert v.check_features([[1, 2], [3, 4]], "x").dtype == np.float32
    assert v.check_features(np.ones((2, 2), dtype=np.uint8), "x").dtype == np.float32
    f32 = np.ones((2, 2), dtype=np.float32)
    assert v.check_features(f32, "x") is f32  # no copy when already canonical


def test_check_features_magnitude_bound():
    top = v.FEATURE_ABS_MAX
    assert v.check_features(np.array([[top, -top]]), "x").shape == (1, 2)
    for value in (np.nextafter(top, np.inf), -1e17, 1e20, 3e38):
        x = np.zeros((3, 2))
        x[2, 1] = value
        raises(
            lambda x=x: v.check_features(x, "x_train"),
            InvalidInputError,
            "x_train",
            f"{abs(value):.3g}",
            "row 2",
            "Rescale",
        )
    raises(
        lambda: v.check_features(np.full((2, 2), 2**62, dtype=np.int64), "x"),
        InvalidInputError,
        "4.61e+18",
    )
    raises(
        lambda: v.check_features(np.full((2, 2), 2**63, dtype=np.uint64), "x"),
        InvalidInputError,
        "9.22e+18",
    )


def test_check_features_squared_distances_stay_finite_at_the_bound():
    # the bound's reason: a squared distance over 16 384 dimensions fits float32
    x = np.full((2, 16384), v.FEATURE_ABS_MAX, dtype=np.float32)
    x[1] = -x[1]
    d2 = np.sum((x[0].astype(np.float32) - x[1]) ** 2, dtype=np.float32)
    assert np.isfinite(d2)


@pytest.mark.parametrize(
    ("x", "needles"),
    [
        (
            np.array([[0.0, np.nan], [1.0, 2.0], [np.inf, 0.0]]),
            ["NaN or inf", "2 row(s)", "[0, 2]"],
        ),
        (np.zeros(3), ["2-D", "(3,)", "reshape"]),
        (np.zeros((2, 2, 2)), ["(2, 2, 2)"]),
        (np.zeros((0, 3)), ["empty", "(0, 3)"]),
        (np.zeros((3, 0)), ["empty", "(3, 0)"]),
        (np.ones((2, 2), dtype=bool), ["booleans are not features"]),
        (np.array([["a", "b"]]), ["real numbers", "<U1"]),
        (np.ones((2, 2), dtype=object), ["real numbers", "object"]),
        (np.ones((2, 2), dtype=complex), ["complex128"]),
        ([[1.0, 2.0], [3.0]], ["could not be converted"]),
        (None, ["None"]),
        ("abc", ["'abc'"]),
        ({"a": 1}, ["{'a': 1}"]),
        (5.0, ["shape ()"]),
    ],
)
def test_check_features_rejects(x, needles):
    raises(lambda: v.check_features(x, "feats"), InvalidInputError, "feats", *needles)


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        ([0, 1, 2], [0, 1, 2]),
        (np.array([0, -1, 2], dtype=np.int8), [0, -1, 2]),
        (np.array([1.0, -1.0, 0.0]), [1, -1, 0]),
        (np.array([1, 2], dtype=np.uint64), [1, 2]),
        (np.array([1, np.int64(2)], dtype=object), [1, 2]),
        (np.zeros(0), []),
    ],
)
def test_check_labels_accepts_integer_labels(y, expected):
    got = v.check_labels(y, len(expected))
    assert got.dtype == np.int64 and got.tolist() == expected


@pytest.mark.parametrize(
    ("y", "needles"),
    [
        (np.array([0.0, np.nan]), ["nan", "position 1", "never NaN"]),
        (np.array([0.0, 0.5]), ["non-integer label", "0.5", "position 1", "not rounded"]),
        (np.array([True, False]), ["booleans", "astype(int)"]),
        (np.array([0, None], dtype=object), ["None", "position 1", "classes.index"]),
        (np.array([0, 1.0], dtype=object), ["1.0", "position 1"]),
        (np.array(["0", "1"]), ["dtype <U1", "'0'", "Map class names"]),
        (np.array([0, 1e20]), ["1e+20", "position 1"]),
        (np.array([0, 2**63], dtype=np.uint64), ["9223372036854775808"]),
        (np.array([0, 2**70], dtype=object), ["1180591620717411303424"]),
        ([0, -2], ["-2", "position 1", "-1 is the only negative label"]),
        (None, ["None"]),
        ("01", ["'01'"]),
        (np.zeros((2, 1)), ["1-D", "(2, 1)"]),
        ([0, 1, 2], ["3 labels", "2 rows"]),
    ],
)
def test_check_labels_rejects(y, needles):
    raises(lambda: v.check_labels(y, 2, name="y_train"), InvalidInputError, "y_train", *needles)


def test_check_labels_unknown_and_class_bounds():
    raises(
        lambda: v.check_labels([0, -1], 2, name="y", allow_unknown=False),
        InvalidInputError,
        "-1",
        "known class index",
    )
    assert v.check_labels([0, 2], 2, n_classes=3).tolist() == [0, 2]
    raises(
        lambda: v.check_labels([0, 3], 2, n_classes=3),
        InvalidInputError,
        "label 3",
        "position 1",
        "[0, 3)",
        "0..2",
    )


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        (["cat", "dog"], ["cat", "dog"]),
        (("cat", "dog"), ["cat", "dog"]),
        (np.array(["cat", "dog"]), ["cat", "dog"]),
        ([0, 1, np.int64(2)], ["0", "1", "2"]),
        ([" cat ", "dog"], ["cat", "dog"]),
        ((c for c in ["a", "b"]), ["a", "b"]),
        ([], []),
    ],
)
def test_check_classes_accepts_ordered_names(classes, expected):
    assert v.check_classes(classes) == expected


@pytest.mark.parametrize(
    ("classes", "needles"),
    [
        (["cat", "cat", "dog"], ["'cat' twice", "positions 0 and 1", "distinct"]),
        (["1", 1], ["'1' twice"]),
        (["a ", "a"], ["'a' twice"]),
        (["a", ""], ["classes[1]", "blank"]),
        (["a", None], ["classes[1]", "None"]),
        ([True, "b"], ["classes[0]", "True"]),
        ([0.5, "b"], ["classes[0]", "0.5"]),
        ("cat", ["'cat'", "wrap it in a list"]),
        (None, ["None"]),
        (3, ["3"]),
        ({"a", "b"}, ["set", "label order"]),
        ({"a": 0, "b": 1}, ["dict", "sorted(d, key=d.get)"]),
    ],
)
def test_check_classes_rejects(classes, needles):
    raises(lambda: v.check_classes(classes), InvalidInputError, "classes", *needles)


def test_check_classes_count_and_name():
    assert v.check_classes(["a", "b"], 2) == ["a", "b"]
    raises(lambda: v.check_classes(["a", "b"], 3), InvalidInputError, "2 names", "n_classes is 3")
    raises(lambda: v.check_classes(["a", "a"], name="the class list c.txt"), InvalidInputError,
           "the class list c.txt")  # fmt: skip


@pytest.mark.parametrize(
    ("indices", "expected"),
    [
        ([3, 1], [3, 1]),
        (np.array([2, 0], dtype=np.int32), [2, 0]),
        (np.array([2], dtype=np.uint8), [2]),
        (4, [4]),
        (np.int64(4), [4]),
        (np.array([1, np.int16(2)], dtype=object), [1, 2]),
        ([], []),
        (np.array([], dtype=float), []),
    ],
)
def test_check_indices_accepts_integer_sequences(indices, expected):
    got = v.check_indices(indices, 5)
    assert got.dtype == np.int64 and got.tolist() == expected


@pytest.mark.parametrize(
    ("indices", "needles"),
    [
        ([2.7], ["2.7", "never rounded"]),
        ([1.0], ["1.0"]),
        (np.array([1.0, 2.0]), ["1.0", "float64"]),
        (np.array([1, 2.5], dtype=object), ["2.5", "object"]),
        (np.array([True, False, True, False, False]), ["boolean mask", "np.flatnonzero(mask)"]),
        ([True, False], ["boolean mask"]),
        (np.array(["1"]), ["'1'"]),
        ("1", ["'1'"]),
        (None, ["None"]),
        ({1, 2}, ["{1, 2}"]),
        ({1: 2}, ["{1: 2}"]),
        ((i for i in (1, 2)), ["generator"]),
        ([[1]], ["1-D", "(1, 1)"]),
        ([5], ["5", "0..4"]),
        ([-1], ["-1", "0..4"]),
        ([2**70], ["1180591620717411303424"]),
        (np.array([2**63], dtype=np.uint64), ["9223372036854775808"]),
        ([1, 1], ["duplicates", "index 1"]),
    ],
)
def test_check_indices_rejects(indices, needles):
    raises(lambda: v.check_indices(indices, 5, "rows"), InvalidInputError, "rows", *needles)


def test_check_indices_duplicates_allowed_and_open_range():
    assert v.check_indices([1, 1], 5, unique=False).tolist() == [1, 1]
    assert v.check_indices([10**6], None).tolist() == [10**6]
    raises(lambda: v.check_indices([-3], None), InvalidInputError, "-3")


def test_check_ids():
    assert v.check_ids(None, 3) is None
    assert v.check_ids(("a", "b", "c"), 3) == ["a", "b", "c"]
    assert v.check_ids(np.arange(3), 3) == [0, 1, 2]
    assert v.check_ids(["a"], None) == ["a"]
    raises(lambda: v.check_ids(["a"], 3), InvalidInputError, "ids", "1 entries", "3 rows")
    for bad, needle in [("abc", "'abc'"), (5, "5"), ({"a", "b"}, "set"), ({"a": 1}, "dict")]:
        raises(lambda bad=bad: v.check_ids(bad, 2, "paths"), InvalidInputError, "paths", needle)


def test_check_sample_weight():
    got = v.check_sample_weight([1, 0, 2.5], 3)
    assert got.dtype == np.float32 and got.tolist() == [1.0, 0.0, 2.5]
    for bad, needle in [
        (np.ones(2), "(2,)"),
        (np.ones((3, 1)), "(3, 1)"),
        (np.array(["a", "b", "c"]), "<U1"),
        ([None, 1, 1], "object"),
    ]:
        raises(lambda bad=bad: v.check_sample_weight(bad, 3, "w"), InvalidInputError, "w", needle)
    raises(lambda: v.check_sample_weight([1, -1, 1], 3), InvalidInputError, "non-negative")
    raises(lambda: v.check_sample_weight([1, np.nan, 1], 3), InvalidInputError, "finite")


def test_check_known_name():
    known = ["centroids", "random"]
    assert v.check_known_name("random", "initial_pool", known, "initial pool") == "random"
    msg = raises(
        lambda: v.check_known_name("centroid", "initial_pool", known, "initial pool"),
        UnknownNameError,
        "initial pool 'centroid'",
        "initial_pool",
        "available: centroids, random",
        "Did you mean 'centroids'",
    )
    assert not msg.startswith('"')  # not KeyError's quoted repr
    with pytest.raises(KeyError):  # still a KeyError for older callers
        v.check_known_name(None, "initial_pool", known, "initial pool")
    raises(lambda: v.check_known_name(3, "k", known, "pool"), UnknownNameError, "3")


CLASSES = ["cat", "dog", "3"]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["dog", "cat"], [1, 0]),
        (np.array(["dog", "3"]), [1, 2]),
        ("dog", [1]),
        ([1, 0], [1, 0]),
        (np.array([2], dtype=np.int8), [2]),
        (2, [2]),
        (np.array([1.0, 0.0]), [1, 0]),  # an integral float *array* reads as labels
        ([], []),
    ],
)
def test_check_class_labels_accepts_names_or_indices(labels, expected):
    got = v.check_class_labels(labels, CLASSES)
    assert got.dtype == np.int64 and got.tolist() == expected


@pytest.mark.parametrize(
    ("labels", "needles"),
    [
        (["Dog"], ["labels[0]", "'Dog'", "Did you mean 'dog'"]),
        (["cow"], ["'cow'", "'cat', 'dog', '3'"]),
        (["2"], ["'2'"]),  # text is a name, never an index
        (["dog", 1], ["mixes class names and numbers"]),
        ([3], ["label 3", "0..2"]),
        ([-1], ["-1", "known class index"]),
        ([1.0], ["1.0"]),
        ([None], ["None"]),
        ([True], ["True"]),
        ([b"dog"], ["b'dog'"]),
        ([["dog"]], ["1-D", "(1, 1)"]),
        ({"dog"}, ["{'dog'}"]),
        (None, ["None"]),
        ((s for s in ["dog"]), ["generator"]),
    ],
)
def test_check_class_labels_rejects(labels, needles):
    raises(lambda: v.check_class_labels(labels, CLASSES), InvalidInputError, "labels", *needles)


def test_check_class_labels_lists_at_most_ten_names():
    classes = [f"c{i}" for i in range(12)]
    msg = raises(lambda: v.check_class_labels(["x"], classes), InvalidInputError, "12 class names")
    assert "'c9', …" in msg and "'c10'" not in msg


def test_messages_never_hold_a_raw_array_dump():
    big = np.arange(10_000, dtype=float) + 0.5
    msg = raises(lambda: v.check_indices(big, 10**5), InvalidInputError)
    assert len(msg) < 300 and not re.search(r"\d+\.5 +\d+\.5 +\d+\.5", msg)


def test_check_proba():
    from alkit.validation import check_proba

    p = np.array([[0.2, 0.8], [0.5, 0.5]], dtype=np.float32)
    assert check_proba(p, 2, 2).dtype == np.float64
    for bad, needle in [
        (None, "None"),
        (np.ones((2, 3)) / 3, "shape (2, 2)"),
        (np.array([[np.nan, 1.0], [0.5, 0.5]]), "NaN"),
        (np.array([[1.5, -0.5], [0.5, 0.5]]), "outside [0, 1]"),
        (np.array([[0.2, 0.2], [0.5, 0.5]]), "sum"),
    ]:
        with pytest.raises(InvalidInputError, match=re.escape(needle)):
            check_proba(bad, 2, 2)


def test_parse_bool_or_none_reads_only_boolean_spellings():
    assert v.parse_bool_or_none("Yes") is True and v.parse_bool_or_none(0) is False
    assert v.parse_bool_or_none(True) is True
    for other in ("maybe", "", 2, None, 1.0):
        assert v.parse_bool_or_none(other) is None


def test_check_class_text():
    t = np.eye(3, 4, dtype=np.float64)
    assert v.check_class_text(t, 3, 4).dtype == np.float32
    for bad, n, d, needle in [
        (t, 2, 4, "3 rows"),
        (t, 3, 5, "4 dimensions"),
        (np.zeros((3, 4)), 3, 4, "zero vectors"),
    ]:
        with pytest.raises(InvalidInputError, match=needle):
            v.check_class_text(bad, n, d)
