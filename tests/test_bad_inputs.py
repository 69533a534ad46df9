"""Bad and odd inputs to every public entry point (issue 14), as one table.

Each row calls one entry point with one input and says what must happen:

- an :mod:`alkit.errors` class: that exact class is raised (not a parent, not a raw
  ``TypeError``/``KeyError``/``IndexError``), and its message contains every ``needle``: the
  offending value and, where there is one, the argument's name;
- ``CLI``: ``alkit.cli.main`` exits with status 2 (returned, or ``SystemExit(2)`` from argparse)
  and prints ``alkit: error:`` and every needle on stderr;
- ``OK``: an odd input that is valid; the call returns a true value (its own check).

Rows marked ``xfail(strict=True)`` are failures in modules this suite's authors may not edit
(``loop.py``, ``sources.py``, ``cli._cmd_run``); they turn into errors once fixed, so that the
mark is removed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import alkit
from alkit import (
    ActiveLearner,
    EmbeddingSet,
    ExportOracle,
    LinearProbe,
    Pool,
    SimulatedOracle,
    initial_pools,
    strategies,
)
from alkit.cli import main
from alkit.errors import (
    BudgetError,
    CorruptCacheError,
    EmptyPoolError,
    InvalidInputError,
    MissingResourceError,
    UnknownNameError,
)
from alkit.oracle import read_class_list, read_labels_csv
from alkit.pool import top_up
from alkit.validation import check_budget

FAST = {"max_epochs": 2}
CLI = "exit status 2 with 'alkit: error:'"
OK = "accepted"
N_POOL = 40  # rows of the CLI's pool.npz


class Ctx:
    """What a row needs: small data, files in ``tmp_path`` and a CLI runner."""

    def __init__(self, tmp_path: Path, capsys, emb: EmbeddingSet) -> None:
        self.tmp, self.capsys, self.emb = tmp_path, capsys, emb
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(30, 4)).astype(np.float32)
        self.y = np.arange(30) % 3
        self.y10 = np.arange(30) % 10

    # ------------------------------------------------------------------ Python API helpers
    def es(self, x=None, y=None, *args, **kw) -> EmbeddingSet:
        return EmbeddingSet(self.x if x is None else x, self.y if y is None else y, *args, **kw)

    def with_value(self, value, row=0, col=0) -> np.ndarray:
        x = self.x.astype(np.float64)
        x[row, col] = value
        return x

    def labels_with(self, value, at=0) -> np.ndarray:
        y = self.y.astype(object)
        y[at] = value
        return np.array(list(y))

    def learner(self, emb=None, **kw) -> ActiveLearner:
        kw.setdefault("probe", FAST)
        return ActiveLearner(self.emb if emb is None else emb, **kw)

    def taught(self, indices=(0,), labels=(0,)) -> ActiveLearner:
        return self.learner(strategy="random").teach(list(indices), list(labels))

    def run(self, **kw):
        kw.setdefault("probe", FAST)
        kw.setdefault("iterations", 1)
        kw.setdefault("strategy", "random")
        return alkit.run_al(self.emb, **kw)

    def probe(self, fitted=True, **kw) -> LinearProbe:
        p = LinearProbe(3, max_epochs=2, device="cpu", **kw)
        return p.fit(self.x, self.y) if fitted else p

    def pool(self, **kw) -> Pool:
        return Pool(self.x, 3, **kw)

    # ------------------------------------------------------------------ files
    def write(self, name: str, content: str | bytes) -> str:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return str(path)

    def npz(self, name: str, meta, drop=(), with_meta=True) -> str:
        """A .npz in EmbeddingSet.save's layout whose ``__meta__`` is ``meta`` (any JSON value,
        or raw bytes), without the arrays in ``drop``."""
        emb = self.es()
        arrays = {"x_train": emb.x_train, "y_train": emb.y_train}
        for key in drop:
            arrays.pop(key)
        raw = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
        if with_meta:
            arrays["__meta__"] = np.frombuffer(raw, dtype=np.uint8)
        path = self.tmp / name
        np.savez(path, **arrays)
        return str(path)

    def meta_of(self, emb: EmbeddingSet, **changes) -> dict:
        return {"classes": emb.classes, "checksum": emb.checksum, **changes}

    def saved(self, name="ok.npz") -> str:
        return str(self.es().save(self.tmp / name))

    def truncated(self, name: str, source: str) -> str:
        data = Path(source).read_bytes()
        return self.write(name, data[: len(data) // 2])

    def npy(self, name: str, array) -> str:
        path = self.tmp / name
        np.save(path, array, allow_pickle=array.dtype == object)
        return str(path)

    # ------------------------------------------------------------------ CLI
    def cli(self, *argv: str) -> tuple[int, str]:
        try:
            rc = main(list(argv))
        except SystemExit as exc:  # argparse errors
            rc = exc.code
        return rc, self.capsys.readouterr().err

    def next(self, *extra: str, labels: str | bytes | None = None, classes="cat\ndog\nbird\n"):
        """``alkit next`` on a 40-row unlabeled pool with the classes cat, dog, bird."""
        pool = self.tmp / "pool.npz"
        if not pool.exists():
            x = np.random.default_rng(1).normal(size=(N_POOL, 6)).astype(np.float32)
            EmbeddingSet(x, -np.ones(N_POOL), classes=["cat", "dog", "bird"]).save(pool)
        argv = ["next", "--embeddings", str(pool), "--budget", "6"]
        if classes is not None:
            argv += ["--classes", self.write("classes.txt", classes)]
        if labels is not None:
            argv += ["--labels", self.write("labels.csv", labels)]
        argv += ["--out", str(self.tmp / "round1" / "to_label.csv")]
        return self.cli(*argv, *extra)

    def next_ok(self, *extra: str, **kw) -> bool:
        rc, err = self.next(*extra, **kw)
        assert rc == 0, err
        rows = (self.tmp / "round1" / "to_label.csv").read_text().splitlines()
        return rows[0] == "index,id,label" and len(rows) == 7

    def next_labeled_pool(self, classes_file: str) -> tuple[int, str]:
        x = np.random.default_rng(1).normal(size=(N_POOL, 6)).astype(np.float32)
        path = self.tmp / "labeled.npz"
        EmbeddingSet(x, np.arange(N_POOL) % 3, classes=["cat", "dog", "bird"]).save(path)
        classes = self.write("other_classes.txt", classes_file)
        return self.cli(
            "next", "--embeddings", str(path), "--classes", classes, "--budget", "6",
            "--out", str(self.tmp / "r" / "x.csv"),
        )  # fmt: skip


def case(id_, call, expected, *needles, xfail: str = ""):
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(call, expected, needles, id=id_, marks=marks)


NOT_MINE = "in a module this suite may not edit; reported"

# fmt: off
CASES = [
    # ============================================================== EmbeddingSet
    case("es-typo-label-99-in-10-classes",
         lambda c: c.es(None, np.where(np.arange(30) == 0, 99, c.y10)),
         InvalidInputError, "up to 99", "10..98", "classes="),
    case("es-typo-label-valid-with-100-classes",
         lambda c: c.es(None, np.where(np.arange(30) == 0, 99, c.y10),
                        classes=[f"c{i}" for i in range(100)]).n_classes == 100, OK),
    case("es-duplicate-class-names",
         lambda c: c.es(classes=["cat", "cat", "dog"]), InvalidInputError, "'cat'", "twice"),
    case("es-feature-3e38-float32",
         lambda c: c.es(c.with_value(3e38).astype(np.float32)), InvalidInputError,
         "x_train", "3e+38", "row 0"),
    case("es-feature-1e20", lambda c: c.es(c.with_value(1e20)), InvalidInputError,
         "x_train", "1e+20"),
    case("es-feature-nan", lambda c: c.es(c.with_value(np.nan, row=3)), InvalidInputError,
         "x_train", "NaN", "[3]"),
    case("es-feature-inf", lambda c: c.es(c.with_value(-np.inf, row=5)), InvalidInputError,
         "x_train", "inf", "[5]"),
    case("es-test-feature-nan",
         lambda c: c.es(None, None, c.with_value(np.nan)[:5], c.y[:5]), InvalidInputError,
         "x_test", "NaN"),
    case("es-int-feature-huge", lambda c: c.es(np.full((30, 4), 2**62)), InvalidInputError,
         "x_train", "4.61e+18"),
    case("es-label-nan", lambda c: c.es(None, np.where(np.arange(30) == 2, np.nan, c.y)),
         InvalidInputError, "y_train", "nan", "position 2"),
    case("es-label-strings", lambda c: c.es(None, c.y.astype(str)), InvalidInputError,
         "y_train", "'0'"),
    case("es-label-none-entry", lambda c: c.es(None, c.labels_with(None)), InvalidInputError,
         "y_train", "None", "position 0"),
    case("es-labels-none", lambda c: EmbeddingSet(c.x, None), InvalidInputError,
         "y_train", "None"),
    case("es-label-half", lambda c: c.es(None, np.where(np.arange(30) == 0, 0.5, c.y)),
         InvalidInputError, "y_train", "0.5", "position 0"),
    case("es-label-bool", lambda c: c.es(None, c.y == 1), InvalidInputError,
         "y_train", "booleans"),
    case("es-label-1e20-float", lambda c: c.es(None, np.where(np.arange(30) == 4, 1e20, c.y)),
         InvalidInputError, "y_train", "1e+20", "position 4"),
    case("es-label-uint64-huge", lambda c: c.es(None, np.full(30, 2**63, dtype=np.uint64)),
         InvalidInputError, "y_train", "9223372036854775808"),
    case("es-label-object-huge-int", lambda c: c.es(None, c.labels_with(2**70)),
         InvalidInputError, "y_train", "1180591620717411303424"),
    case("es-label-minus-2", lambda c: c.es(None, np.where(np.arange(30) == 0, -2, c.y)),
         InvalidInputError, "y_train", "-2"),
    case("es-test-label-unknown",
         lambda c: c.es(None, None, c.x[:3], [0, -1, 1]), InvalidInputError, "y_test", "-1"),
    case("es-x-test-without-y-test", lambda c: c.es(None, None, c.x[:3]), InvalidInputError,
         "x_test", "y_test"),
    case("es-classes-shorter-than-labels", lambda c: c.es(classes=["a", "b"]),
         InvalidInputError, "label 2", "only 2 classes"),
    case("es-classes-single-string", lambda c: c.es(classes="abc"), InvalidInputError,
         "classes", "'abc'", "wrap it in a list"),
    case("es-classes-set", lambda c: c.es(classes={"a", "b", "c"}), InvalidInputError,
         "classes", "set", "order"),
    case("es-classes-dict", lambda c: c.es(classes={"a": 0, "b": 1, "c": 2}),
         InvalidInputError, "classes", "dict", "order"),
    case("es-classes-int", lambda c: c.es(classes=3), InvalidInputError, "classes", "3"),
    case("es-classes-blank-name", lambda c: c.es(classes=["a", " ", "c"]), InvalidInputError,
         "classes[1]", "blank"),
    case("es-classes-none-name", lambda c: c.es(classes=[None, "b", "c"]), InvalidInputError,
         "classes[0]", "None"),
    case("es-classes-bool-name", lambda c: c.es(classes=[True, "b", "c"]), InvalidInputError,
         "classes[0]", "True"),
    case("es-classes-1-and-'1'", lambda c: c.es(classes=["1", 1, 2]), InvalidInputError,
         "'1'", "twice"),
    case("es-meta-not-dict", lambda c: c.es(meta=[1]), InvalidInputError, "meta", "[1]"),
    case("es-x-test-other-dimension",
         lambda c: c.es(None, None, np.ones((5, 3)), np.zeros(5, dtype=int)),
         InvalidInputError, "x_test has 3 features", "x_train has 4"),
    case("es-features-1d", lambda c: c.es(c.x[:, 0]), InvalidInputError, "x_train", "(30,)"),
    case("es-features-empty", lambda c: c.es(np.zeros((0, 4)), np.zeros(0, dtype=int)),
         InvalidInputError, "x_train", "(0, 4)"),
    case("es-features-string", lambda c: c.es("abc"), InvalidInputError, "x_train", "'abc'"),
    case("es-features-ragged", lambda c: EmbeddingSet([[1.0, 2.0], [3.0]], [0, 1]),
         InvalidInputError, "x_train", "could not be converted"),
    case("es-features-bool", lambda c: c.es(c.x > 0), InvalidInputError, "x_train", "bool"),
    case("es-features-complex", lambda c: c.es(c.x.astype(complex)), InvalidInputError,
         "x_train", "complex128"),
    case("es-labels-2d", lambda c: c.es(None, c.y[:, None]), InvalidInputError,
         "y_train", "(30, 1)"),
    case("es-labels-wrong-length", lambda c: c.es(None, c.y[:5]), InvalidInputError,
         "y_train", "5 labels", "30 rows"),
    case("es-unlabeled-pool-without-classes-is-valid",
         lambda c: c.es(None, -np.ones(30)).classes == [], OK),
    # ============================================================== load / load_embeddings
    case("load-npz-checksum-removed",
         lambda c: alkit.load_embeddings(c.npz("nc.npz", {"classes": ["0", "1", "2"]})),
         CorruptCacheError, "nc.npz", "no checksum", "verify=False"),
    case("load-npz-checksum-removed-verify-false",
         lambda c: EmbeddingSet.load(c.npz("nc.npz", {"classes": ["0", "1", "2"]}),
                                     verify=False).n_classes == 3, OK),
    case("load-npz-verify-string",
         lambda c: EmbeddingSet.load(c.saved(), verify="no"), InvalidInputError,
         "verify", "'no'"),
    case("load-npz-meta-json-list",
         lambda c: alkit.load_embeddings(c.npz("ml.npz", [1, 2])), CorruptCacheError,
         "ml.npz", "list"),
    case("load-npz-meta-json-null",
         lambda c: alkit.load_embeddings(c.npz("mn.npz", None)), CorruptCacheError,
         "mn.npz", "NoneType"),
    case("load-npz-meta-not-json",
         lambda c: alkit.load_embeddings(c.npz("mb.npz", b"{not json")), CorruptCacheError,
         "mb.npz"),
    case("load-npz-meta-not-utf8",
         lambda c: alkit.load_embeddings(c.npz("mu.npz", b"\xff\xfe{}")), CorruptCacheError,
         "mu.npz", "utf-8"),
    case("load-npz-without-meta",
         lambda c: alkit.load_embeddings(c.npz("nometa.npz", None, with_meta=False)),
         CorruptCacheError, "nometa.npz", "__meta__"),
    case("load-npz-checksum-mismatch",
         lambda c: alkit.load_embeddings(c.npz("cm.npz", {"classes": ["0", "1", "2"],
                                                           "checksum": "abc"})),
         CorruptCacheError, "cm.npz", "Checksum mismatch"),
    case("load-npz-checksum-not-text",
         lambda c: alkit.load_embeddings(c.npz("ci.npz", {"classes": ["0", "1", "2"],
                                                           "checksum": 5})),
         CorruptCacheError, "ci.npz", "checksum entry is 5"),
    case("load-npz-classes-string",
         lambda c: alkit.load_embeddings(c.npz("cs.npz", c.meta_of(c.es(), classes="abc"))),
         CorruptCacheError, "cs.npz", "'classes'"),
    case("load-npz-classes-duplicated",
         lambda c: alkit.load_embeddings(c.npz("cd.npz", c.meta_of(c.es(),
                                                                   classes=["a", "a", "b"]))),
         InvalidInputError, "'a'", "twice"),
    case("load-npz-without-y-train",
         lambda c: EmbeddingSet.load(c.npz("my.npz", {"classes": []}, drop=["y_train"]),
                                     verify=False),
         CorruptCacheError, "my.npz", "y_train"),
    case("load-npz-truncated",
         lambda c: alkit.load_embeddings(c.truncated("t.npz", c.saved())), CorruptCacheError,
         "t.npz", "truncated"),
    case("load-npy-truncated",
         lambda c: alkit.load_embeddings(c.truncated("t.npy", c.npy("f.npy", c.x))),
         CorruptCacheError, "t.npy", "truncated"),
    case("load-npy-empty-file", lambda c: alkit.load_embeddings(c.write("e.npy", b"")),
         CorruptCacheError, "e.npy"),
    case("load-npy-object-array",
         lambda c: alkit.load_embeddings(c.npy("o.npy", np.array([1, "a"], dtype=object))),
         CorruptCacheError, "o.npy"),
    case("load-npy-scalar",
         lambda c: alkit.load_embeddings(c.npy("s.npy", np.float32(3))), InvalidInputError,
         "s.npy", "shape ()"),
    case("load-npy-1d", lambda c: alkit.load_embeddings(c.npy("v.npy", np.ones(5))),
         InvalidInputError, "v.npy", "(5,)"),
    case("load-npy-nan", lambda c: alkit.load_embeddings(c.npy("n.npy", c.with_value(np.nan))),
         InvalidInputError, "n.npy", "NaN"),
    case("load-embeddings-none", lambda c: alkit.load_embeddings(None), InvalidInputError,
         "None"),
    case("load-embeddings-empty-string", lambda c: alkit.load_embeddings(""),
         InvalidInputError, "''"),
    case("load-embeddings-blank-string", lambda c: alkit.load_embeddings("   "),
         InvalidInputError, "'   '"),
    case("load-embeddings-int", lambda c: alkit.load_embeddings(42), InvalidInputError, "42"),
    case("load-embeddings-bytes", lambda c: alkit.load_embeddings(b"digits"),
         InvalidInputError, "b'digits'"),
    case("load-embeddings-missing-path",
         lambda c: alkit.load_embeddings(str(c.tmp / "nope.npz")), UnknownNameError,
         "nope.npz"),
    case("load-directory-without-files",
         lambda c: alkit.load_embeddings(str(Path(c.write("d/x", "")).parent)),
         CorruptCacheError, "arrays.safetensors"),
    case("embeddingset-load-none", lambda c: EmbeddingSet.load(None), InvalidInputError,
         "path", "None"),
    case("embeddingset-save-int-path", lambda c: c.es().save(42), InvalidInputError,
         "path", "42"),
    case("load-synthetic-N-1.5-truncated", lambda c: alkit.load_embeddings(
         "synthetic:N=1.5,d=4,C=2"), InvalidInputError, "1.5"),
    case("load-synthetic-seed-minus-1", lambda c: alkit.load_embeddings(
         "synthetic:N=10,d=3,C=2,seed=-1"), InvalidInputError, "seed", "-1"),
    case("load-synthetic-seed-1.7", lambda c: alkit.load_embeddings(
         "synthetic:N=10,d=3,C=2,seed=1.7"), InvalidInputError, "seed", "1.7"),
    # ============================================================== seeds
    *[case(f"seed-{where}-{label}", call, InvalidInputError, "seed", needle)
      for label, seed, needle in [
          ("1.7", 1.7, "1.7"), ("abc", "abc", "'abc'"), ("None", None, "None"),
          ("minus-1", -1, "-1"), ("generator", np.random.default_rng(0), "Generator"),
          ("True", True, "True"), ("np-float-2.0", np.float64(2.0), "2.0"),
      ]
      for where, call in [
          ("learner", lambda c, s=seed: c.learner(seed=s)),
          ("run_al", lambda c, s=seed: c.run(seed=s)),
      ]],
    case("seed-linear-probe-1.5", lambda c: LinearProbe(3, seed=1.5), InvalidInputError,
         "seed", "1.5"),
    case("seed-numpy-int-is-valid", lambda c: c.learner(seed=np.int64(3)).seed == 3, OK),
    # ============================================================== probe settings
    *[case(f"probe-{where}-{key}={value!r}", call, InvalidInputError, key, needle)
      for key, value, needle in [
          ("bn_momentum", 2.0, "2.0"), ("bn_momentum", 0, "0.0"), ("bn_eps", -1, "-1"),
          ("bn_eps", 0, "0.0"), ("lr", "0.01", "'0.01'"), ("lr", 0, "0.0"),
          ("dropout", 1.0, "1.0"), ("dropout", float("nan"), "nan"),
          ("batch_size", 1.5, "1.5"), ("max_epochs", True, "True"), ("patience", 0, "0"),
          ("weight_decay", -1, "-1"), ("min_delta", float("inf"), "inf"),
      ]
      for where, call in [
          ("learner", lambda c, k=key, v=value: c.learner(probe={k: v})),
          ("linear-probe", lambda c, k=key, v=value: LinearProbe(3, **{k: v})),
      ]],
    case("probe-learner-unknown-key", lambda c: c.learner(probe={"bn_momentun": 0.5}),
         InvalidInputError, "bn_momentun", "Did you mean 'bn_momentum'"),
    case("probe-linear-probe-unknown-key", lambda c: LinearProbe(3, bn_momentun=0.5),
         InvalidInputError, "bn_momentun", "Did you mean 'bn_momentum'"),
    case("probe-learner-not-a-dict", lambda c: c.learner(probe="fast"), InvalidInputError,
         "dict", "'fast'"),
    case("probe-learner-key-not-text", lambda c: c.learner(probe={1: 2}), InvalidInputError,
         "names must be strings", "1"),
    case("linear-probe-n-classes-1", lambda c: LinearProbe(1), InvalidInputError,
         "n_classes", "1"),
    case("linear-probe-n-classes-text", lambda c: LinearProbe("3"), InvalidInputError,
         "n_classes", "'3'"),
    case("linear-probe-chunk-size-0", lambda c: LinearProbe(3, chunk_size=0),
         InvalidInputError, "chunk_size", "0"),
    case("linear-probe-predict-unfitted", lambda c: c.probe(fitted=False).predict(c.x),
         InvalidInputError, "not fitted"),
    case("linear-probe-fit-label-3-of-3", lambda c: c.probe(fitted=False).fit(c.x, c.y + 1),
         InvalidInputError, "label 3"),
    case("linear-probe-fit-unknown-label",
         lambda c: c.probe(fitted=False).fit(c.x, np.where(np.arange(30) == 0, -1, c.y)),
         InvalidInputError, "-1"),
    case("linear-probe-fit-negative-weight",
         lambda c: c.probe(fitted=False).fit(c.x, c.y, sample_weight=-np.ones(30)),
         InvalidInputError, "sample_weight", "non-negative"),
    case("linear-probe-fit-weight-shape",
         lambda c: c.probe(fitted=False).fit(c.x, c.y, sample_weight=np.ones(3)),
         InvalidInputError, "sample_weight", "(3,)"),
    case("linear-probe-predict-other-dimension", lambda c: c.probe().predict(c.x[:, :3]),
         InvalidInputError, "3 features", "4"),
    case("linear-probe-predict-1d", lambda c: c.probe().predict(c.x[0]), InvalidInputError,
         "(4,)"),
    case("linear-probe-mc-argmax-0-passes", lambda c: c.probe().mc_argmax(c.x, 0),
         InvalidInputError, "n_passes", "0"),
    case("linear-probe-mc-argmax-1.5-passes", lambda c: c.probe().mc_argmax(c.x, 1.5),
         InvalidInputError, "n_passes", "1.5"),
    case("linear-probe-mc-stats-0-passes", lambda c: c.probe().mc_stats(c.x, 0),
         InvalidInputError, "n_passes", "0"),
    case("linear-probe-embed-float-rows", lambda c: c.probe().embed(c.x, rows=[1.5]),
         InvalidInputError, "rows", "1.5"),
    case("linear-probe-embed-rows-out-of-range", lambda c: c.probe().embed(c.x, rows=[30]),
         InvalidInputError, "rows", "30"),
    case("linear-probe-dropout-string",
         lambda c: c.probe().predict_proba(c.x, dropout="yes"), InvalidInputError,
         "dropout", "'yes'"),
    # ============================================================== booleans and devices
    case("bool-run-al-cluster-'False'", lambda c: c.run(strategy="entropy", cluster="False"),
         InvalidInputError, "cluster", "'False'", "Pass False"),
    case("bool-run-al-cluster-1", lambda c: c.run(strategy="entropy", cluster=1),
         InvalidInputError, "cluster", "1"),
    case("bool-run-al-typical-'yes'", lambda c: c.run(strategy="entropy", typical="yes"),
         InvalidInputError, "typical", "'yes'"),
    case("bool-learner-dropout-'no'", lambda c: c.learner(strategy="margin", dropout="no"),
         InvalidInputError, "dropout", "'no'"),
    # allowed, as in the reference (the median block, clustered)
    case("bool-learner-typical-and-cluster",
         lambda c: c.learner(strategy="entropy", typical=True, cluster=True).params["cluster"], OK),
    case("bool-learner-bald-typical-and-cluster",
         lambda c: c.learner(strategy="bald", typical=True, cluster=True).params["typical"], OK),
    case("bool-run-al-progress-'yes'", lambda c: c.run(progress="yes"), InvalidInputError,
         "progress", "'yes'"),
    case("bool-pool-relabel-'yes'", lambda c: c.pool().add_labels([1], [0], relabel="yes"),
         InvalidInputError, "relabel", "'yes'"),
    *[case(f"device-{where}-{device!r}", call, InvalidInputError, "device", needle)
      for device, needle in [("gpu", "'gpu'"), (3, "3"), ("CPU", "'CPU'"),
                             ("cuda:x", "'cuda:x'"), ("", "''")]
      for where, call in [
          ("learner", lambda c, d=device: c.learner(device=d)),
          ("run_al", lambda c, d=device: c.run(device=d)),
      ]],
    case("device-gpu-says-cuda", lambda c: c.learner(device="gpu"), InvalidInputError,
         "'gpu'", "'cuda'"),
    case("device-linear-probe-gpu", lambda c: LinearProbe(3, device="gpu"), InvalidInputError,
         "device", "'gpu'"),
    case("device-strategy-param-gpu", lambda c: c.learner(strategy="entropy", device="gpu"),
         InvalidInputError, "device", "'gpu'"),
    # ============================================================== classes and ids
    case("learner-classes-shorter-than-n-classes",
         lambda c: c.learner(classes=["a", "b"], n_classes=3), InvalidInputError,
         "classes has 2 names", "n_classes is 3"),
    case("learner-classes-shorter-than-embeddings",
         lambda c: c.learner(classes=["a", "b"]), InvalidInputError, "2 class", "have 3"),
    case("learner-n-classes-below-embeddings", lambda c: c.learner(n_classes=2),
         InvalidInputError, "n_classes", "2 class", "have 3"),
    case("learner-duplicate-classes", lambda c: c.learner(classes=["a", "a", "b"]),
         InvalidInputError, "'a'", "twice"),
    case("learner-classes-set", lambda c: c.learner(classes={"a", "b", "c"}),
         InvalidInputError, "classes", "set"),
    case("learner-ids-wrong-length", lambda c: c.learner(ids=list(range(5))),
         InvalidInputError, "ids", "5 entries", "200 rows"),
    case("learner-ids-string", lambda c: c.learner(ids="abc"), InvalidInputError,
         "ids", "'abc'"),
    case("learner-ids-int", lambda c: c.learner(ids=5), InvalidInputError, "ids", "5"),
    case("learner-single-class-embeddings",
         lambda c: c.learner(c.es(None, np.zeros(30, dtype=int))), InvalidInputError,
         "1 class", "at least 2", "since", "classes=[...]"),
    case("learner-n-classes-1", lambda c: c.learner(c.x, n_classes=1), InvalidInputError,
         "1 class", "at least 2"),
    case("learner-n-classes-text", lambda c: c.learner(n_classes="3"), InvalidInputError,
         "n_classes", "'3'"),
    case("learner-n-classes-float", lambda c: c.learner(n_classes=3.0), InvalidInputError,
         "n_classes", "3.0"),
    case("learner-array-without-classes", lambda c: ActiveLearner(c.x), InvalidInputError,
         "plain array", "n_classes"),
    case("learner-array-features-nan", lambda c: ActiveLearner(c.with_value(np.nan),
                                                               n_classes=3),
         InvalidInputError, "x", "NaN"),
    case("learner-more-classes-than-embeddings-is-valid",
         lambda c: c.learner(classes=["a", "b", "c", "d"]).n_classes == 4, OK),
    case("learner-propagation-string", lambda c: c.learner(propagation="yes"),
         InvalidInputError, "propagation", "'yes'"),
    # ============================================================== teach / relabel
    case("teach-float-index-2.7", lambda c: c.taught([2.7], [0]), InvalidInputError,
         "indices", "2.7"),
    case("teach-float-index-1.0", lambda c: c.taught([1.0], [0]), InvalidInputError,
         "indices", "1.0"),
    case("teach-boolean-mask",
         lambda c: c.learner().teach(np.arange(200) < 2, [0, 1]), InvalidInputError,
         "boolean mask", "np.flatnonzero"),
    case("teach-class-names-is-valid",
         lambda c: c.taught([0, 1], ["class_0", "class_1"]).pool.labels[:2].tolist() == [0, 1],
         OK),
    case("teach-unknown-class-name", lambda c: c.taught([0], ["dog"]), InvalidInputError,
         "labels[0]", "'dog'"),
    case("teach-wrong-case-class-name", lambda c: c.taught([0], ["Class_1"]),
         InvalidInputError, "'Class_1'", "Did you mean 'class_1'"),
    case("teach-class-index-as-text", lambda c: c.taught([0], ["1"]), InvalidInputError,
         "'1'"),
    case("teach-labeled-again-same-label", lambda c: c.taught([0], [0]).teach([0], [0]),
         InvalidInputError, "index 0", "already labeled", "the same label", "relabel()"),
    case("teach-labeled-again-other-label", lambda c: c.taught([0], [0]).teach([0], [1]),
         InvalidInputError, "index 0", "already labeled", "a different label"),
    case("relabel-changes-label-without-acquiring",
         lambda c: (lambda lr: lr.acquired == [0] and lr.pool.labels[0] == 1)(
             c.taught([0], [0]).relabel([0], ["class_1"])), OK),
    case("relabel-unlabeled-index", lambda c: c.learner().relabel([4], [1]),
         InvalidInputError, "index 4", "no label yet"),
    case("teach-index-out-of-range", lambda c: c.taught([200], [0]), InvalidInputError,
         "200", "0..199"),
    case("teach-negative-index", lambda c: c.taught([-1], [0]), InvalidInputError,
         "-1", "0..199"),
    case("teach-duplicate-indices", lambda c: c.taught([3, 3], [0, 0]), InvalidInputError,
         "duplicates", "3"),
    case("teach-more-indices-than-labels", lambda c: c.taught([3, 4], [0]),
         InvalidInputError, "2 indices", "1 labels"),
    case("teach-more-labels-than-indices", lambda c: c.taught([3], [0, 1]),
         InvalidInputError, "1 indices", "2 labels"),
    case("teach-mixed-names-and-numbers", lambda c: c.taught([3, 4], ["class_0", 1]),
         InvalidInputError, "mixes class names and numbers"),
    case("teach-label-out-of-range", lambda c: c.taught([3], [3]), InvalidInputError,
         "label 3", "0..2"),
    case("teach-label-unknown", lambda c: c.taught([3], [-1]), InvalidInputError, "-1"),
    case("teach-label-1.5", lambda c: c.taught([3], [1.5]), InvalidInputError, "1.5"),
    case("teach-label-none", lambda c: c.taught([3], [None]), InvalidInputError, "None"),
    case("teach-label-bool", lambda c: c.taught([3], [True]), InvalidInputError, "True"),
    case("teach-labels-2d", lambda c: c.learner().teach([3, 4], [[0, 1]]), InvalidInputError,
         "labels", "(1, 2)"),
    case("teach-labels-set", lambda c: c.learner().teach([3, 4], {0, 1}), InvalidInputError,
         "labels", "{0, 1}"),
    case("teach-indices-set", lambda c: c.learner().teach({3, 4}, [0, 1]), InvalidInputError,
         "indices", "{3, 4}"),
    case("teach-indices-generator", lambda c: c.learner().teach((i for i in (3, 4)), [0, 1]),
         InvalidInputError, "indices", "generator"),
    case("teach-indices-2d", lambda c: c.learner().teach([[3]], [0]), InvalidInputError,
         "indices", "(1, 1)"),
    case("teach-indices-none", lambda c: c.learner().teach(None, [0]), InvalidInputError,
         "indices", "None"),
    case("teach-indices-text", lambda c: c.learner().teach(["3"], [0]), InvalidInputError,
         "indices", "'3'"),
    case("teach-index-huge-int", lambda c: c.taught([2**70], [0]), InvalidInputError,
         "indices", "1180591620717411303424"),
    case("teach-scalar-index-and-name-is-valid",
         lambda c: c.learner().teach(3, "class_2").pool.labels[3] == 2, OK),
    case("evaluate-label-out-of-range",
         lambda c: c.taught([0, 1, 2], [0, 1, 2]).evaluate(c.emb.x_test,
                                                           np.full(len(c.emb.x_test), 7)),
         InvalidInputError, "y", "label 7"),
    case("evaluate-labels-wrong-length",
         lambda c: c.taught([0, 1, 2], [0, 1, 2]).evaluate(c.emb.x_test, c.emb.y_test[:3]),
         InvalidInputError, "y", "3 labels"),
    case("evaluate-function-string-labels",
         lambda c: alkit.evaluate(c.probe(), c.x, ["a"] * 30), InvalidInputError, "y", "'a'"),
    case("predict-other-dimension",
         lambda c: c.taught([0, 1, 2], [0, 1, 2]).predict(np.ones((2, 3))),
         InvalidInputError, "3 features", "8"),
    case("fit-before-teach", lambda c: c.learner().fit(), BudgetError, "Nothing is labeled"),
    # ============================================================== budgets
    *[case(f"budget-learner-{name}-{label}", call, BudgetError, name, needle)
      for label, value, needle in [("0", 0, "0"), ("minus-1", -1, "-1"), ("2.5", 2.5, "2.5"),
                                   ("text-5", "5", "'5'"), ("True", True, "True"),
                                   ("201", 201, "201")]
      for name, call in [
          ("budget", lambda c, v=value: c.learner(budget=v)),
          ("initial_budget", lambda c, v=value: c.learner(initial_budget=v)),
      ]],
    case("budget-run-al-2.5", lambda c: c.run(budget=2.5), BudgetError, "budget", "2.5"),
    case("budget-equal-to-pool-is-valid", lambda c: c.learner(budget=200).budget == 200, OK),
    *[case(f"iterations-run-al-{label}", lambda c, v=value: c.run(iterations=v), BudgetError,
           "iterations", needle)
      for label, value, needle in [("0", 0, "0"), ("1.5", 1.5, "1.5"), ("text-2", "2", "'2'"),
                                   ("True", True, "True"), ("None", None, "None")]],
    case("iterations-need-more-than-pool", lambda c: c.run(budget=50, iterations=10),
         BudgetError, "10 iterations", "200 points"),
    case("query-n-0", lambda c: c.learner().query(0), BudgetError, "0"),
    case("query-n-text", lambda c: c.learner().query("2"), BudgetError, "'2'"),
    case("query-n-float-after-teach", lambda c: c.taught([0, 1, 2], [0, 1, 2]).query(2.5),
         BudgetError, "budget", "2.5"),
    case("check-budget-exhausted", lambda c: check_budget(1, 0), EmptyPoolError,
         "exhausted", "budget=1"),
    case("check-budget-above-unlabeled", lambda c: check_budget(11, 10), BudgetError,
         "budget=11", "10 unlabeled"),
    case("top-up-budget-1.5", lambda c: top_up(np.array([0]), c.pool(), 1.5,
                                               np.random.default_rng(0)),
         BudgetError, "budget", "1.5"),
    case("top-up-budget-above-pool", lambda c: top_up(np.array([0]), c.pool(), 50,
                                                      np.random.default_rng(0)),
         BudgetError, "budget=50", "30 unlabeled"),
    case("top-up-float-picked", lambda c: top_up(np.array([0.5]), c.pool(), 2,
                                                 np.random.default_rng(0)),
         InvalidInputError, "picked", "0.5"),
    case("top-up-picked-out-of-range", lambda c: top_up(np.array([50]), c.pool(), 2,
                                                        np.random.default_rng(0)),
         InvalidInputError, "picked", "50"),
    case("top-up-seed-for-rng", lambda c: top_up(np.array([0]), c.pool(), 3, 0),
         InvalidInputError, "rng", "0", "default_rng"),
    # ============================================================== strategies
    case("strategy-unknown-name", lambda c: c.learner(strategy="entropie"), UnknownNameError,
         "'entropie'", "Did you mean 'entropy'"),
    case("strategy-wrong-case", lambda c: c.run(strategy="Entropy"), UnknownNameError,
         "'Entropy'", "Did you mean 'entropy'"),
    case("strategy-none", lambda c: c.learner(strategy=None), UnknownNameError, "None"),
    case("initial-pool-unknown-name", lambda c: c.learner(initial_pool="centroid"),
         UnknownNameError, "'centroid'", "Did you mean 'centroids'"),
    case("dropquery-M-2.5", lambda c: c.learner(strategy="dropquery", M=2.5),
         InvalidInputError, "M", "2.5"),
    case("dropquery-M-text", lambda c: c.learner(strategy="dropquery", M="3"),
         InvalidInputError, "M", "'3'"),
    case("dropquery-M-0", lambda c: c.learner(strategy="dropquery", M=0), InvalidInputError,
         "M", "0"),
    case("dropquery-candidate-factor-0",
         lambda c: c.learner(strategy="dropquery", candidate_factor=0), InvalidInputError,
         "candidate_factor", "0"),
    case("dropquery-lowercase-m", lambda c: c.learner(strategy="dropquery", m=3),
         InvalidInputError, "['m']", "Did you mean 'M'"),
    case("probcover-delta-rule-wrong-case",
         lambda c: c.learner(strategy="probcover", delta_rule="Reference"),
         InvalidInputError, "delta_rule", "'Reference'", "Did you mean 'reference'"),
    case("probcover-delta-negative", lambda c: c.learner(strategy="probcover", delta=-1),
         InvalidInputError, "delta", "-1"),
    case("probcover-delta-text", lambda c: c.learner(strategy="probcover", delta="0.5"),
         InvalidInputError, "delta", "'0.5'"),
    case("probcover-index-unknown", lambda c: c.learner(strategy="probcover", index="ivf2"),
         InvalidInputError, "index", "'ivf2'", "Did you mean 'ivf'"),
    case("probcover-purity-2", lambda c: c.learner(strategy="probcover",
                                                   purity_threshold=2.0),
         InvalidInputError, "purity_threshold", "2.0"),
    case("probcover-delta-iter-0", lambda c: c.learner(strategy="probcover", delta_iter=0),
         InvalidInputError, "delta_iter", "0"),
    case("typiclust-knn-0", lambda c: c.learner(strategy="typiclust", knn=0),
         InvalidInputError, "knn", "0"),
    case("typiclust-knn-2.0", lambda c: c.learner(strategy="typiclust", knn=2.0),
         InvalidInputError, "knn", "2.0"),
    case("bald-M-0", lambda c: c.learner(strategy="bald", M=0), InvalidInputError, "M", "0"),
    case("power-bald-beta-negative", lambda c: c.learner(strategy="power_bald", beta=-1.0),
         InvalidInputError, "beta", "-1.0"),
    case("power-bald-beta-nan", lambda c: c.learner(strategy="power_bald", beta=float("nan")),
         InvalidInputError, "beta", "nan"),
    case("alfamix-epsilon-negative", lambda c: c.learner(strategy="alfamix", epsilon=-1),
         InvalidInputError, "epsilon", "-1"),
    case("alfamix-epsilon-text", lambda c: c.learner(strategy="alfamix", epsilon="a"),
         InvalidInputError, "epsilon", "'a'"),
    case("strategy-check-params-text-maybe",
         lambda c: strategies.check_params("entropy", {"cluster": "maybe"}, from_text=True),
         InvalidInputError, "cluster", "'maybe'"),
    case("strategy-check-params-text-yes-is-valid",
         lambda c: strategies.check_params("entropy", {"cluster": "yes"},
                                           from_text=True)["cluster"] is True, OK),
    case("strategies-select-unfitted-probe",
         lambda c: strategies.select("entropy", c.pool(), c.probe(fitted=False), 2,
                                     np.random.default_rng(0)),
         InvalidInputError, "'entropy'", "fitted probe"),
    case("strategies-select-no-probe",
         lambda c: strategies.select("margin", c.pool(), None, 2, np.random.default_rng(0)),
         InvalidInputError, "'margin'", "fitted probe"),
    case("strategies-select-array-for-pool",
         lambda c: strategies.select("random", c.x, None, 2, np.random.default_rng(0)),
         InvalidInputError, "pool", "ndarray"),
    case("strategies-select-seed-for-rng",
         lambda c: strategies.select("random", c.pool(), None, 2, 0), InvalidInputError,
         "rng", "0"),
    case("strategies-select-unknown-param",
         lambda c: strategies.select("random", c.pool(), None, 2, np.random.default_rng(0),
                                     cluster=False),
         InvalidInputError, "'random'", "cluster"),
    case("strategies-register-twice",
         lambda c: strategies.register("random", lambda *a, **k: None), InvalidInputError,
         "'random'", "overwrite=True"),
    case("strategies-register-empty-name", lambda c: strategies.register("", lambda *a: None),
         InvalidInputError, "non-empty"),
    case("initial-pools-select-unknown-name",
         lambda c: initial_pools.select("centroid", c.x, 3, np.random.default_rng(0)),
         UnknownNameError, "'centroid'", "Did you mean 'centroids'"),
    *[case(f"initial-pools-select-budget-{label}",
           lambda c, v=value: initial_pools.select("random", c.x, v, np.random.default_rng(0)),
           BudgetError, "initial_budget", needle)
      for label, value, needle in [("0", 0, "0"), ("2.5", 2.5, "2.5"), ("31", 31, "31")]],
    case("initial-pools-select-seed-for-rng",
         lambda c: initial_pools.select("random", c.x, 2, 0), InvalidInputError, "rng", "0"),
    case("initial-pools-select-none-for-rng",
         lambda c: initial_pools.select("random", c.x, 2, None), InvalidInputError,
         "rng", "None"),
    *[case(f"initial-pools-select-{name}-unknown-param",
           lambda c, n=name: initial_pools.select(n, c.x, 2, np.random.default_rng(0),
                                                  n_classes=3, foo=1),
           InvalidInputError, name, "foo")
      for name in ["random", "centroids", "typiclust", "probcover"]],
    case("initial-pools-select-typiclust-knn-0",
         lambda c: initial_pools.select("typiclust", c.x, 2, np.random.default_rng(0), knn=0),
         InvalidInputError, "knn", "0"),
    case("initial-pools-select-features-nan",
         lambda c: initial_pools.select("random", c.with_value(np.nan), 2,
                                        np.random.default_rng(0)),
         InvalidInputError, "x", "NaN"),
    case("initial-pools-register-twice",
         lambda c: initial_pools.register("random", initial_pools.random), InvalidInputError,
         "'random'", "overwrite=True"),
    # ============================================================== Pool and oracles
    case("pool-labeled-int-mask", lambda c: c.pool(labeled=np.ones(30, dtype=int)),
         InvalidInputError, "labeled", "int64"),
    case("pool-labeled-wrong-shape", lambda c: c.pool(labeled=np.ones(5, dtype=bool)),
         InvalidInputError, "labeled", "(5,)"),
    case("pool-n-classes-0", lambda c: Pool(c.x, 0), InvalidInputError, "n_classes", "0"),
    case("pool-n-classes-1.5", lambda c: Pool(c.x, 1.5), InvalidInputError, "n_classes",
         "1.5"),
    case("pool-labels-out-of-range", lambda c: c.pool(labels=np.full(30, 5)),
         InvalidInputError, "labels", "label 5"),
    case("pool-cache-list", lambda c: c.pool(cache=[]), InvalidInputError, "cache", "list"),
    case("pool-add-labels-float-index", lambda c: c.pool().add_labels([1.5], [0]),
         InvalidInputError, "indices", "1.5"),
    case("simulated-oracle-unknown-label",
         lambda c: SimulatedOracle(np.array([-1, 0, 1])).label([0]), InvalidInputError,
         "label -1", "fully labeled"),
    case("simulated-oracle-half-label", lambda c: SimulatedOracle(np.array([0.5, 1.0, 1.0])),
         InvalidInputError, "y", "0.5"),
    case("simulated-oracle-nan-label", lambda c: SimulatedOracle(np.array([np.nan, 1.0])),
         InvalidInputError, "y", "nan"),
    case("simulated-oracle-text-labels", lambda c: SimulatedOracle(np.array(["a", "b"])),
         InvalidInputError, "y", "'a'"),
    case("simulated-oracle-scalar", lambda c: SimulatedOracle(5), InvalidInputError, "y", "5"),
    case("simulated-oracle-float-index",
         lambda c: SimulatedOracle(np.array([0, 1, 1])).label([1.7]), InvalidInputError,
         "indices", "1.7"),
    case("simulated-oracle-index-out-of-range",
         lambda c: SimulatedOracle(np.array([0, 1, 1])).label([5]), InvalidInputError,
         "indices", "5", "0..2"),
    case("export-oracle-duplicate-classes",
         lambda c: ExportOracle(c.tmp / "a.csv", ["cat", "cat", "dog"]), InvalidInputError,
         "'cat'", "twice"),
    case("export-oracle-classes-string", lambda c: ExportOracle(c.tmp / "a.csv", "ab"),
         InvalidInputError, "classes", "'ab'"),
    case("export-oracle-ids-int", lambda c: ExportOracle(c.tmp / "a.csv", ["a", "b"], ids=5),
         InvalidInputError, "ids", "5"),
    case("export-oracle-path-none", lambda c: ExportOracle(None, ["a", "b"]),
         InvalidInputError, "path", "None"),
    case("export-oracle-float-index",
         lambda c: ExportOracle(c.tmp / "a.csv", ["a", "b"]).export([1.5]), InvalidInputError,
         "indices", "1.5"),
    case("export-oracle-index-beyond-ids",
         lambda c: ExportOracle(c.tmp / "a.csv", ["a", "b"], ids=["x", "y"]).export([5]),
         InvalidInputError, "indices", "5", "0..1"),
    case("export-oracle-scores-wrong-length",
         lambda c: ExportOracle(c.tmp / "a.csv", ["a", "b"]).export([0, 1], scores=[1.0]),
         InvalidInputError, "scores", "(1,)"),
    # ============================================================== CSV and class-list readers
    case("read-labels-csv-duplicate-classes",
         lambda c: read_labels_csv(c.write("l.csv", "index,label\n0,a\n"), ["a", "a"]),
         InvalidInputError, "'a'", "twice"),
    case("read-labels-csv-n-rows-float",
         lambda c: read_labels_csv(c.write("l.csv", "index,label\n0,a\n"), ["a", "b"],
                                   n_rows=1.5),
         InvalidInputError, "n_rows", "1.5"),
    case("read-labels-csv-number-with-numbered-classes",
         lambda c: read_labels_csv(c.write("l.csv", "index,label\n0,0\n"), ["1", "2", "3"]),
         InvalidInputError, "row 2", "'0'", "read as a name"),
    case("read-labels-csv-numbered-class-name-is-valid",
         lambda c: read_labels_csv(c.write("l.csv", "index,label\n0,3\n"),
                                   ["1", "2", "3"])[1].tolist() == [2], OK),
    case("read-labels-csv-path-none", lambda c: read_labels_csv(None, ["a", "b"]),
         InvalidInputError, "path", "None"),
    case("read-class-list-directory", lambda c: read_class_list(c.tmp), InvalidInputError,
         "directory"),
    case("read-class-list-not-utf8",
         lambda c: read_class_list(c.write("c.txt", b"\xff\xfe\x00a")), InvalidInputError,
         "c.txt", "utf-8"),
    # ============================================================== CLI: alkit next
    case("cli-next-first-call-writes-6-rows", lambda c: c.next_ok(), OK),
    case("cli-next-unknown-class", lambda c: c.next(labels="index,label\n0,cow\n"), CLI,
         "labels.csv, row 2", "'cow'"),
    case("cli-next-wrong-case-class", lambda c: c.next(labels="index,label\n0,Cat\n"), CLI,
         "'Cat'", "Did you mean 'cat'"),
    case("cli-next-index-abc", lambda c: c.next(labels="index,label\nabc,cat\n"), CLI,
         "row 2", "index", "'abc'"),
    case("cli-next-blank-index-filled-label", lambda c: c.next(labels="index,label\n,cat\n"),
         CLI, "row 2", "index", "empty"),
    case("cli-next-index-1.5", lambda c: c.next(labels="index,label\n1.5,cat\n"), CLI,
         "row 2", "'1.5'"),
    case("cli-next-index-negative", lambda c: c.next(labels="index,label\n-1,cat\n"), CLI,
         "row 2", "-1"),
    case("cli-next-index-out-of-range", lambda c: c.next(labels="index,label\n40,cat\n"),
         CLI, "row 2", "index 40", "0..39"),
    case("cli-next-empty-labels-file", lambda c: c.next(labels=""), CLI, "labels.csv",
         "empty"),
    case("cli-next-header-only-is-valid", lambda c: c.next_ok(labels="index,label\n"), OK),
    case("cli-next-row-with-extra-field", lambda c: c.next(labels="index,label\n0,cat,x\n"),
         CLI, "row 2", "3 fields", "header has 2"),
    case("cli-next-row-with-missing-field",
         lambda c: c.next(labels="index,id,label\n0,cat\n"), CLI, "row 2", "2 fields"),
    case("cli-next-same-index-two-labels",
         lambda c: c.next(labels="index,label\n0,cat\n0,dog\n"), CLI, "row 3", "index 0",
         "'dog'", "'cat'"),
    case("cli-next-same-index-same-label-is-valid",
         lambda c: c.next_ok(labels="index,label\n0,cat\n0,cat\n1,dog\n"), OK),
    case("cli-next-duplicate-label-column",
         lambda c: c.next(labels="index,label,label\n0,cat,dog\n"), CLI, "'label'", "2 times"),
    case("cli-next-no-label-column", lambda c: c.next(labels="idx,lab\n0,cat\n"), CLI,
         "'index'", "'label'", "['idx', 'lab']"),
    case("cli-next-labels-is-directory", lambda c: c.cli(
         "next", "--embeddings", c.saved(), "--labels", str(c.tmp), "--budget", "3",
         "--out", str(c.tmp / "o" / "x.csv")), CLI, "directory"),
    case("cli-next-labels-missing", lambda c: c.cli(
         "next", "--embeddings", c.saved(), "--labels", str(c.tmp / "nope.csv"),
         "--budget", "3"), CLI, "nope.csv"),
    case("cli-next-classes-missing", lambda c: c.cli(
         "next", "--embeddings", c.saved(), "--classes", str(c.tmp / "nope.txt"),
         "--budget", "3"), CLI, "nope.txt"),
    case("cli-next-classes-empty", lambda c: c.next(classes=""), CLI, "classes.txt", "empty"),
    case("cli-next-classes-duplicate", lambda c: c.next(classes="cat\ndog\ncat\n"), CLI,
         "classes.txt", "'cat'", "twice"),
    case("cli-next-classes-one", lambda c: c.next(classes="cat\n"), CLI, "1 class"),
    case("cli-next-classes-differ-from-labeled-embeddings",
         lambda c: c.next_labeled_pool("a\nb\nc\n"), CLI, "other_classes.txt", "'a'", "'cat'"),
    case("cli-next-seeds-option", lambda c: c.next("--seeds", "1"), CLI, "--seeds"),
    case("cli-next-seed-abc", lambda c: c.next("--seed", "abc"), CLI, "--seed", "'abc'"),
    case("cli-next-seed-1.5", lambda c: c.next("--seed", "1.5"), CLI, "--seed", "'1.5'"),
    case("cli-next-seed-minus-1", lambda c: c.next("--seed", "-1"), CLI, "seed", "-1"),
    case("cli-next-budget-1.5", lambda c: c.next("--budget", "1.5"), CLI, "--budget",
         "'1.5'"),
    case("cli-next-budget-0", lambda c: c.next("--budget", "0"), CLI, "budget", "0"),
    case("cli-next-budget-above-pool", lambda c: c.next("--budget", "100"), CLI,
         "budget=100", "40 unlabeled"),
    case("cli-next-device-gpu", lambda c: c.next("--device", "gpu"), CLI, "device", "'gpu'"),
    case("cli-next-strategy-typo", lambda c: c.next("--strategy", "entropie"), CLI,
         "'entropie'", "Did you mean 'entropy'"),
    case("cli-next-embeddings-missing", lambda c: c.cli(
         "next", "--embeddings", str(c.tmp / "nope.npz"), "--budget", "3"), CLI, "nope.npz"),
    case("cli-next-embeddings-nan", lambda c: c.cli(
         "next", "--embeddings", c.npy("n.npy", c.with_value(np.nan)), "--budget", "3"),
         CLI, "n.npy", "NaN"),
    case("cli-next-out-below-a-file", lambda c: c.next("--out", c.write("f.txt", "") + "/x.csv"),
         CLI, "f.txt"),
    case("cli-no-command", lambda c: c.cli(), CLI, "command"),
    case("cli-run-seeds-abc", lambda c: c.cli("run", "--dataset", "digits", "--seeds", "abc"),
         CLI, "--seeds", "'abc'"),
    case("cli-run-param-without-equals", lambda c: c.cli(
         "run", "--dataset", "synthetic:N=100,d=4,C=3", "--strategy", "entropy",
         "--iterations", "1", "--param", "cluster", "--out", str(c.tmp)), CLI, "cluster"),
    case("cli-run-param-bool-spelling-yes", lambda c: c.cli(
         "run", "--dataset", "synthetic:N=100,d=4,C=3", "--strategy", "entropy",
         "--iterations", "1", "--param", "cluster=yes", "--out", str(c.tmp))[0] == 0, OK),
    # ============================================================== other modules (reported)
    case("run-al-oracle-not-an-oracle", lambda c: c.run(oracle=5), InvalidInputError,
         "oracle", "5"),
    case("load-results-on-error-unknown",
         lambda c: alkit.load_results(c.tmp, on_error="bogus"), InvalidInputError,
         "on_error", "'bogus'"),
    case("load-results-missing-path",
         lambda c: alkit.load_results(c.tmp / "nope"), MissingResourceError, "nope"),
    case("method-label-none", lambda c: alkit.method_label(None), InvalidInputError, "None"),
]
# fmt: on


@pytest.fixture(scope="module")
def tiny():
    return alkit.load_embeddings("synthetic:N=200,d=8,C=3,seed=0")


@pytest.fixture
def ctx(tmp_path, capsys, monkeypatch, tiny):
    monkeypatch.chdir(tmp_path)
    return Ctx(tmp_path, capsys, tiny)


def test_table_has_every_kind():
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    for prefix in ("es-", "load-", "seed-", "probe-", "bool-", "device-", "learner-", "teach-",
                   "budget-", "iterations-", "dropquery-", "probcover-", "cli-next-"):  # fmt: skip
        assert any(i.startswith(prefix) for i in ids), prefix


@pytest.mark.parametrize(("call", "expected", "needles"), CASES)
def test_bad_input(ctx, call, expected, needles):
    if expected is OK:
        assert bool(call(ctx))
        return
    if expected is CLI:
        rc, err = call(ctx)
        assert rc == 2, err
        assert "alkit: error:" in err
        assert "Traceback" not in err
        message = err
    else:
        with pytest.raises(expected) as info:
            call(ctx)
        # the most specific class, not a parent (BudgetError for EmptyPoolError) or a sibling
        assert type(info.value) is expected, f"{type(info.value).__name__}: {info.value}"
        message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
