"""The peer: scikit-activeml 1.0.1's strategies on the same inputs as alkit.

Each peer strategy runs in its own child with the suite's time and memory limits, on each pool
of the per-query benchmark (same synthetic pool, same labeled set, drawn per class). Peers with
a classifier run twice, each in a fresh child:

* ``variant = "prefit"``: the classifier is :class:`ProbeClassifier` around the probe alkit's
  first query fits (``common.make_problem`` fits the same one), already trained; the query is
  called with ``fit_clf=False``, so only the query is timed (compared with alkit's strategy time);
* ``variant = "fit"``: the query is called as a user would, ``fit_clf=True``: the classifier
  (the same probe settings and seed, untrained) is fitted inside the timed call (compared with
  alkit's whole query, its probe fit included).

Peers without a classifier (TypiClust, ProbCover) run once (``variant = "none"``), and that
time is compared both ways. What each peer gets as ``X``:

* DropQuery, BADGE, UncertaintySampling(entropy), RandomSampling: the raw pool features, with
  the probe embedding returned through ``clf_embedding_flag_name="embed"`` where the
  strategy clusters or builds gradients on it (as alkit does); DropQuery with
  ``n_dropout_samples`` = alkit's M (3) and its default sklearn ``KMeans``;
* CoreSet: the probe embeddings of the pool (alkit's CoreSet space), computed inside the
  timed call (after the probe's fit for ``"fit"``);
* TypiClust, ProbCover: the L2-normalised raw features (alkit's space for both), computed
  inside the timed call. TypiClust uses k = 20 typicality neighbours (alkit's), but k = |L| + B
  clusters (alkit caps k at 500, as the paper).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common import (
    Mode,
    effective_mem_limit_gib,
    measure,
    mode_dict,
    mode_from_dict,
    query_problem,
    run_case,
    status_row,
)

#: peer name → the alkit strategy it is compared with
PEERS = {
    "DropQuery": "dropquery",
    "TypiClust": "typiclust",
    "ProbCover": "probcover",
    "Badge": "badge",
    "CoreSet": "coreset",
    "UncertaintySampling(entropy)": "entropy",
    "RandomSampling": "random",
}


def _probe_classifier_class():
    import numpy as np
    from skactiveml.base import SkactivemlClassifier

    class ProbeClassifier(SkactivemlClassifier):
        """A ``SkactivemlClassifier`` around an already fitted :class:`alkit.LinearProbe`.

        ``fit`` validates ``X``/``y`` (setting ``classes_`` and the cost matrix, as the base
        class requires) and trains a fresh probe on the labeled rows unless it holds a fitted
        one; ``predict_proba(X, embed=True)`` also returns the probe embedding.
        """

        def __init__(
            self,
            probe=None,
            settings=None,
            classes=None,
            missing_label=np.nan,
            cost_matrix=None,
            random_state=None,
        ):
            super().__init__(
                classes=classes,
                missing_label=missing_label,
                cost_matrix=cost_matrix,
                random_state=random_state,
            )
            self.probe = probe
            self.settings = settings

        def fit(self, X, y, sample_weight=None):
            self._validate_data(X, y, sample_weight)
            if self.probe is None or not self.probe.is_fitted:
                import alkit
                from alkit._random import run_streams

                # the probe alkit's learner fits: same settings, same random stream
                yy = np.asarray(y, dtype=np.float64)
                mask = ~np.isnan(yy)
                self.probe = alkit.LinearProbe(
                    len(self.classes), seed=run_streams(0)["probe"], **(self.settings or {})
                ).fit(np.asarray(X, dtype=np.float32)[mask], yy[mask].astype(np.int64))
            return self

        def predict_proba(self, X, embed=False):
            X = np.asarray(X, dtype=np.float32)
            p = self.probe.predict_proba(X)
            return (p, self.probe.embed(X)) if embed else p

    return ProbeClassifier


#: Peers that take a classifier (run pre-fitted and fitted inside the call).
WITH_CLASSIFIER = {"DropQuery", "Badge", "CoreSet", "UncertaintySampling(entropy)"}


def case(
    emit,
    peer: str,
    mode: dict[str, Any],
    device: str = "cpu",
    regime: str = "few",
    variant: str = "prefit",
) -> None:
    """Child: one timed query of the peer strategy ``peer`` (see the module docstring)."""
    import numpy as np
    from skactiveml import pool as skpool

    m = mode_from_dict(mode)
    q = m.query
    prob = query_problem(m, regime, device, fit_probe=variant != "fit")
    x, probe = prob["x"], prob["probe"]
    y = np.where(prob["labeled"], prob["y"], np.nan).astype(np.float64)  # skactiveml: NaN = missing
    clf = _probe_classifier_class()(
        probe=probe, settings=prob["probe_settings"], classes=np.arange(q["C"]), random_state=0
    )
    fit_clf = variant == "fit"
    if not fit_clf:
        clf.fit(x[prob["labeled"]], y[prob["labeled"]])
    B = q["budget"]

    def l2(a):
        return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)

    def coreset():
        if fit_clf:
            clf.fit(x, y)
        return skpool.CoreSet(random_state=0).query(clf.probe.embed(x), y, batch_size=B)

    calls = {
        "DropQuery": lambda: skpool.DropQuery(
            n_dropout_samples=3, dropout_rate=0.75, random_state=0, clf_embedding_flag_name="embed"
        ).query(x, y, clf, fit_clf=fit_clf, batch_size=B),
        "TypiClust": lambda: skpool.TypiClust(k=20, random_state=0).query(l2(x), y, batch_size=B),
        "ProbCover": lambda: skpool.ProbCover(n_classes=q["C"], random_state=0).query(
            l2(x), y, batch_size=B
        ),
        "Badge": lambda: skpool.Badge(random_state=0, clf_embedding_flag_name="embed").query(
            x, y, clf, fit_clf=fit_clf, batch_size=B
        ),
        "CoreSet": coreset,
        "UncertaintySampling(entropy)": lambda: skpool.UncertaintySampling(
            method="entropy", random_state=0
        ).query(x, y, clf, fit_clf=fit_clf, batch_size=B),
        "RandomSampling": lambda: skpool.RandomSampling(random_state=0).query(x, y, batch_size=B),
    }
    secs, peak, before, idx = measure(calls[peer])
    idx = np.asarray(idx, dtype=np.int64)
    emit(
        {
            "peer": peer,
            "strategy": PEERS[peer],
            "regime": regime,
            "variant": variant,
            "kind": "peer",
            "status": "ok",
            "seconds": secs,
            "peak_rss_mib": peak,
            "rss_before_mib": before,
            "n_returned": int(len(idx)),
            "n_unique_unlabeled": int(len(np.unique(idx[~prob["labeled"][idx]]))),
            "N": q["N"],
            "d": q["d"],
            "C": q["C"],
            "n_labeled": q["n_labeled"],
            "budget": B,
            "skactiveml": _skactiveml_version(),
        }
    )


def variants(peer: str) -> list[str]:
    """``["prefit", "fit"]`` for a peer with a classifier, else ``["none"]``."""
    return ["prefit", "fit"] if peer in WITH_CLASSIFIER else ["none"]


def _skactiveml_version() -> str:
    import skactiveml

    return str(getattr(skactiveml, "__version__", "unknown"))


def run(mode: Mode, out: Path, device: str = "cpu", log=print) -> list[dict[str, Any]]:
    """Parent: one child per peer strategy, each with the peer time limit and the memory limit."""
    rows: list[dict[str, Any]] = []
    q = mode.query
    try:
        import skactiveml  # noqa: F401
    except ImportError as exc:
        for peer, strat in PEERS.items():
            rows.append(
                {
                    "peer": peer,
                    "strategy": strat,
                    "kind": "peer",
                    "status": "skipped",
                    "note": f"scikit-activeml not installed ({exc})",
                }
            )
        return rows
    mem = effective_mem_limit_gib(mode.mem_limit_gib)
    for regime in mode.regimes:
        for peer in mode.extra.get("peers") or list(PEERS):
            for variant in variants(peer):
                strat = PEERS[peer]
                base = {
                    "peer": peer,
                    "strategy": strat,
                    "regime": regime,
                    "variant": variant,
                    "kind": "peer",
                    "N": q["N"],
                    "d": q["d"],
                    "C": q["C"],
                    "n_labeled": q["n_labeled"],
                    "budget": q["budget"],
                }
                res = run_case(
                    "bench_peer:case",
                    {
                        "peer": peer,
                        "mode": mode_dict(mode),
                        "device": device,
                        "regime": regime,
                        "variant": variant,
                    },
                    mode.peer_timeout_s,
                    mem,
                    out / "_work" / f"peer_{regime}_{strat}_{variant}.jsonl",
                    in_process=mode.in_process,
                )
                rows.extend(res.rows)
                if res.status != "ok":
                    note = res.message
                    if res.status == "oom":
                        note = f"out of memory (address-space limit {mem:.1f} GiB): {res.message}"
                    elif res.status == "timeout":
                        note = f"did not finish in {mode.peer_timeout_s:.0f} s"
                    rows.append(
                        {**status_row(base, res), "note": note, "mem_limit_gib": round(mem, 1)}
                    )
                secs = res.rows[0]["seconds"] if res.rows else float("nan")
                log(f"  peer  {regime:4s} {peer:28s} {variant:6s} {res.status:8s} {secs:8.3f} s")
    return rows
