"""Shared machinery of the benchmark suite: modes, machine info, the subprocess runner, peak RSS.

Every measured case runs in a child process started by :func:`run_case`, with an
address-space limit (``resource.setrlimit(RLIMIT_AS)``, set before ``exec``) and a
wall-clock limit (the child's process group is killed when it runs past it). The child
writes one JSON line per result row as soon as it has it, so a case that times out or
runs out of memory still reports what it finished. Peak memory is the child's resident
high-water mark (``VmHWM`` of ``/proc/self/status``), reset before each measured call by
writing ``5`` to ``/proc/self/clear_refs``; where that is unavailable, ``ru_maxrss``.

This module is also the child's entry point::

    python benchmarks/common.py --child MODULE:FUNCTION ARGS_JSON RESULT_PATH

and must stay importable without torch (the runner's own tests start children that
never import it).
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import resource
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GIB = 1 << 30


# ---------------------------------------------------------------------------- modes
@dataclass
class Mode:
    """Sizes and limits of one suite configuration (``full``, ``quick`` or ``smoke``).

    Attributes
    ----------
    query : dict
        The per-query problem: ``N``, ``d``, ``C``, ``n_labeled``, ``budget``.
    reps : int
        Repetitions per strategy (the median is reported).
    single_rep_above_s : float
        A strategy whose first repetition takes longer runs once (keeps the suite bounded).
    query_timeout_s, peer_timeout_s : float
        Wall-clock limit of one strategy's child (all repetitions and its limit included)
        and of one peer child.
    mem_limit_gib : float
        Address-space limit of every child (capped by what the machine has available).
    probe_sizes : list of int
        Labeled-set sizes of the probe-fit benchmark.
    probe_run : dict or None
        The end-to-end DropQuery run: ``N``, ``d``, ``C``, ``iterations``.
    probe_timeout_s : float
    scaling_n : list of int
    scaling_c_large : int
        C used at the largest N (1000 at 1.28M, ImageNet-1k).
    scaling_timeout_s : float
        Wall-clock limit of one scaling child (one N, every strategy).
    propagation : dict
        ``N``, ``d``, ``k`` of the label-propagation benchmark.
    propagation_timeout_s : float
    regimes : dict of str to float
        The per-query pools, by name: the noise of ``synthetic:…`` (within-class spread). With
        |L| drawn ``n_labeled / C`` per class and the paper's probe, noise 2 leaves few DropQuery
        candidates (≈ 1 100 of 49 000 at N = 50 000) and noise 4 most of the pool (≈ 34 400).
    """

    name: str
    query: dict[str, int]
    reps: int
    single_rep_above_s: float
    query_timeout_s: float
    peer_timeout_s: float
    mem_limit_gib: float
    probe_sizes: list[int]
    probe_d: int
    probe_c: int
    probe_run: dict[str, int] | None
    probe_timeout_s: float
    scaling_n: list[int]
    scaling_d: int
    scaling_c: int
    scaling_c_large: int
    scaling_timeout_s: float
    propagation: dict[str, int]
    propagation_timeout_s: float
    in_process: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    regimes: dict[str, float] = field(default_factory=lambda: dict(REGIMES))


#: The two per-query pools (name → noise): few DropQuery candidates, and most of the pool.
REGIMES = {"few": 2.0, "many": 4.0}

SCALING_STRATEGIES = [
    "dropquery",
    "entropy",
    "margin",
    "coreset",
    "badge",
    "typiclust",
    "probcover",
]

MODES: dict[str, Mode] = {
    # the configuration: CIFAR-100 with DINOv2 ViT-g/14 (N = 50k, d = 1536, C = 100)
    "full": Mode(
        "full",
        query=dict(N=50_000, d=1536, C=100, n_labeled=1000, budget=100),
        reps=3,
        single_rep_above_s=20.0,
        query_timeout_s=900.0,
        peer_timeout_s=240.0,
        mem_limit_gib=16.0,
        probe_sizes=[100, 1000, 2000],
        probe_d=1536,
        probe_c=100,
        probe_run=dict(N=50_000, d=1536, C=100, iterations=20),
        probe_timeout_s=420.0,
        scaling_n=[10_000, 50_000, 200_000, 1_280_000],
        scaling_d=1536,
        scaling_c=100,
        scaling_c_large=1000,
        scaling_timeout_s=420.0,
        propagation=dict(N=50_000, d=1536, k=500),
        propagation_timeout_s=420.0,
    ),
    # about two minutes on two idle cores: the same shapes on a smaller pool
    "quick": Mode(
        "quick",
        query=dict(N=10_000, d=1536, C=100, n_labeled=500, budget=100),
        reps=1,
        single_rep_above_s=5.0,
        query_timeout_s=60.0,
        peer_timeout_s=30.0,
        mem_limit_gib=8.0,
        probe_sizes=[100, 1000],
        probe_d=1536,
        probe_c=100,
        probe_run=None,
        probe_timeout_s=60.0,
        scaling_n=[10_000, 50_000],
        scaling_d=1536,
        scaling_c=100,
        scaling_c_large=100,
        scaling_timeout_s=60.0,
        propagation=dict(N=10_000, d=1536, k=100),
        propagation_timeout_s=60.0,
        extra={
            "scaling_strategies": ["dropquery", "entropy", "margin"],
            "strategies": [
                "random",
                "entropy",
                "margin",
                "dropquery",
                "coreset",
                "badge",
                "alfamix",
                "typiclust",
                "probcover",
            ],
        },
    ),
    # seconds: keeps the scripts from rotting (tests/test_benchmarks_smoke.py); no timing meaning
    "smoke": Mode(
        "smoke",
        query=dict(N=600, d=16, C=5, n_labeled=30, budget=10),
        reps=1,
        single_rep_above_s=1.0,
        query_timeout_s=60.0,
        peer_timeout_s=60.0,
        mem_limit_gib=8.0,
        probe_sizes=[20],
        probe_d=16,
        probe_c=5,
        probe_run=dict(N=400, d=16, C=5, iterations=3),
        probe_timeout_s=60.0,
        scaling_n=[300, 600],
        scaling_d=16,
        scaling_c=5,
        scaling_c_large=5,
        scaling_timeout_s=60.0,
        propagation=dict(N=400, d=16, k=10),
        propagation_timeout_s=60.0,
        in_process=True,
        extra={
            "max_epochs": 5,
            "strategies": [
                "random",
                "entropy",
                "dropquery",
                "coreset",
                "badge",
                "alfamix",
                "typiclust",
                "probcover",
            ],
            "peers": ["DropQuery", "UncertaintySampling(entropy)", "RandomSampling"],
            "scaling_strategies": ["dropquery", "entropy", "probcover"],
        },
    ),
}


def mode_dict(mode: Mode) -> dict[str, Any]:
    """The mode as a JSON-able dict (children receive it as an argument)."""
    return asdict(mode)


def mode_from_dict(d: dict[str, Any]) -> Mode:
    return Mode(**d)


# ---------------------------------------------------------------------------- machine info
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(module: str) -> str | None:
    try:
        mod = __import__(module)
    except Exception:  # noqa: BLE001 - a missing optional package is recorded as None
        return None
    return str(getattr(mod, "__version__", "unknown"))


def machine_info(device: str = "cpu") -> dict[str, Any]:
    """CPU model, cores, RAM, load, library versions, BLAS and GPU of this machine.

    Returns
    -------
    dict
        JSON-able; written to ``machine.json`` beside the CSVs.
    """
    import numpy as np

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": _cpu_model(),
        "cpu_cores": os.cpu_count(),
        "load_average_1_5_15": list(os.getloadavg()),
        "time": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "device": device,
    }
    try:
        import psutil

        vm = psutil.virtual_memory()
        info["ram_gib"] = round(vm.total / GIB, 1)
        info["ram_available_gib"] = round(vm.available / GIB, 1)
        info["cpu_cores_physical"] = psutil.cpu_count(logical=False)
    except ImportError:
        info["ram_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB, 1)
    for mod in ("numpy", "scipy", "torch", "faiss", "sklearn", "skactiveml", "pandas", "alkit"):
        info[f"{mod}_version"] = _version(mod)
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [
            {
                k: p.get(k)
                for k in (
                    "internal_api",
                    "version",
                    "num_threads",
                    "architecture",
                    "threading_layer",
                )
            }
            for p in threadpool_info()
        ]
    except ImportError:
        info["blas"] = str(np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas"))
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        info["torch_blas"] = torch.backends.mkl.is_available() and "mkl" or "openblas/other"
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
            info["gpu_memory_gib"] = round(
                torch.cuda.get_device_properties(0).total_memory / GIB, 1
            )
        else:
            info["gpu"] = None
    except ImportError:
        info["gpu"] = None
    try:
        import faiss

        info["faiss_threads"] = faiss.omp_get_max_threads()
    except ImportError:
        pass
    return info


def available_memory_gib() -> float:
    """Memory the machine can give now (psutil's ``available``), in GiB."""
    try:
        import psutil

        return psutil.virtual_memory().available / GIB
    except ImportError:  # pragma: no cover - psutil ships with the dev extra
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable"):
                return int(line.split()[1]) * 1024 / GIB
        return math.inf


# ---------------------------------------------------------------------------- memory/time in the child
def _status_kib(key: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mib() -> float:
    """Current resident set size of this process in MiB."""
    kib = _status_kib("VmRSS")
    if kib is None:  # pragma: no cover - non-Linux
        return float("nan")
    return kib / 1024


def reset_peak() -> bool:
    """Reset the resident high-water mark to the current RSS (Linux ≥ 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_mib() -> float:
    """The resident high-water mark in MiB since the last :func:`reset_peak` (or process start)."""
    kib = _status_kib("VmHWM")
    if kib is None:  # pragma: no cover - non-Linux: ru_maxrss is in KiB on Linux, bytes on macOS
        r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return r / (1024 * 1024) if sys.platform == "darwin" else r / 1024
    return kib / 1024


def measure(fn: Callable[[], Any]) -> tuple[float, float, float, Any]:
    """Run ``fn()`` once and measure it.

    Returns
    -------
    seconds : float
        Wall time (``time.perf_counter``).
    peak_rss_mib : float
        Resident high-water mark during the call (absolute, the process included).
    rss_before_mib : float
        Resident set size just before the call (so ``peak − before`` is what the call added).
    result
        What ``fn`` returned.
    """
    import gc

    gc.collect()
    before = rss_mib()
    reset_peak()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    return seconds, peak_mib(), before, out


# ---------------------------------------------------------------------------- the runner
@dataclass
class CaseResult:
    """What one child reported: its rows and how it ended."""

    status: str  # ok | timeout | oom | error | killed | skipped
    rows: list[dict[str, Any]]
    seconds: float
    message: str = ""
    returncode: int | None = None


OOM_MARKERS = (
    "can't allocate memory",
    "cannot allocate memory",
    "bad_alloc",
    "out of memory",
    "failed to allocate",
    "memoryerror",
    "unable to allocate",
)


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(m in text for m in OOM_MARKERS)


def _limits(mem_bytes: int | None) -> Callable[[], None]:
    def apply() -> None:
        if mem_bytes is not None:
            resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))

    return apply


def effective_mem_limit_gib(requested_gib: float, reserve_gib: float = 1.5) -> float:
    """The address-space limit a child gets: the request, capped by available memory + torch's
    virtual overhead (imported CUDA/CPU libraries map ≈ 3.5 GiB that is never resident)."""
    return max(2.0, min(requested_gib, available_memory_gib() - reserve_gib + 3.5))


def run_case(
    target: str,
    kwargs: dict[str, Any],
    timeout_s: float,
    mem_limit_gib: float | None,
    result_path: Path,
    in_process: bool = False,
) -> CaseResult:
    """Run ``target`` (``"module:function"`` in ``benchmarks/``) in a limited child process.

    The function is called as ``function(emit=emit, **kwargs)``; every ``emit(row)`` is one
    result row (a JSON-able dict). Rows emitted before a timeout or an out-of-memory error
    are kept.

    Parameters
    ----------
    target : str
    kwargs : dict
        JSON-able keyword arguments.
    timeout_s : float
        Wall-clock limit; the child's whole process group is killed after it.
    mem_limit_gib : float or None
        Address-space limit (``RLIMIT_AS``) of the child; None = unlimited.
    result_path : Path
        Where the child writes its JSON lines (overwritten).
    in_process : bool
        Call the function in this process instead (no limits; the smoke test uses it).

    Returns
    -------
    CaseResult
        ``status`` is ``ok``, ``timeout`` ("did not finish in T"), ``oom`` (an allocation
        failed under the limit), ``killed`` (a signal, e.g. the kernel's OOM killer) or ``error``.
    """
    result_path = Path(result_path)
    result_path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if in_process:
        rows: list[dict[str, Any]] = []
        try:
            _call(target, kwargs, rows.append)
        except Exception as exc:  # noqa: BLE001 - recorded, the suite goes on
            status = "oom" if _is_oom(exc) else "error"
            return CaseResult(status, rows, time.perf_counter() - t0, _short(exc))
        return CaseResult("ok", rows, time.perf_counter() - t0)
    if result_path.exists():
        result_path.unlink()
    mem_bytes = None if mem_limit_gib is None else int(mem_limit_gib * GIB)
    cmd = [
        sys.executable,
        str(HERE / "common.py"),
        "--child",
        target,
        json.dumps(kwargs),
        str(result_path),
    ]
    env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=_limits(mem_bytes),
        start_new_session=True,
        env=env,
        cwd=str(HERE.parent),
    )
    try:
        out, _ = proc.communicate(timeout=timeout_s)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        timed_out = True
    seconds = time.perf_counter() - t0
    rows, end = _read_rows(result_path)
    tail = (out or b"").decode(errors="replace").strip().splitlines()[-3:]
    if timed_out:
        return CaseResult(
            "timeout", rows, seconds, f"did not finish in {timeout_s:.0f} s", proc.returncode
        )
    if end is not None:
        return CaseResult(end["_status"], rows, seconds, end.get("message", ""), proc.returncode)
    if proc.returncode is not None and proc.returncode < 0:
        sig = signal.Signals(-proc.returncode).name
        msg = f"killed by {sig}" + (" (likely the kernel OOM killer)" if sig == "SIGKILL" else "")
        return CaseResult("killed", rows, seconds, msg, proc.returncode)
    return CaseResult(
        "error", rows, seconds, " | ".join(tail) or f"exit code {proc.returncode}", proc.returncode
    )


def _short(exc: BaseException, limit: int = 300) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text[:limit]


def _read_rows(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    rows, end = [], None
    if not path.exists():
        return rows, end
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:  # a line cut by a kill
            continue
        if "_status" in rec:
            end = rec
        else:
            rows.append(rec)
    return rows, end


def _call(target: str, kwargs: dict[str, Any], emit: Callable[[dict[str, Any]], None]) -> None:
    module_name, func_name = target.split(":")
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    module = __import__(module_name)
    getattr(module, func_name)(emit=emit, **kwargs)


def _child_main(target: str, args_json: str, result_path: str) -> int:
    fh = open(result_path, "a", buffering=1)

    def emit(row: dict[str, Any]) -> None:
        fh.write(json.dumps(row, default=_json_default) + "\n")
        fh.flush()

    try:
        _call(target, json.loads(args_json), emit)
    except BaseException as exc:  # noqa: BLE001 - the parent classifies it
        status = "oom" if _is_oom(exc) else "error"
        fh.write(json.dumps({"_status": status, "message": _short(exc)}) + "\n")
        traceback.print_exc()
        fh.close()
        return 3 if status == "oom" else 2
    fh.write(json.dumps({"_status": "ok"}) + "\n")
    fh.close()
    return 0


def _json_default(o: Any) -> Any:
    try:
        import numpy as np

        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return float(o)
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # pragma: no cover
        pass
    return str(o)


# ---------------------------------------------------------------------------- problem set-up (child side)
def synthetic_x(N: int, d: int, C: int, seed: int = 0, noise: float = 1.0):
    """Training features and labels of ``synthetic:N=…,d=…,C=…,seed=…,test=0,noise=…`` (in memory
    only)."""
    import alkit

    spec = f"synthetic:N={N},d={d},C={C},seed={seed},test=0"
    emb = alkit.load_embeddings(spec if noise == 1.0 else f"{spec},noise={noise}")
    return emb.x_train, emb.y_train


def make_problem(
    N: int,
    d: int,
    C: int,
    n_labeled: int,
    seed: int = 0,
    device: str = "cpu",
    max_epochs: int | None = None,
    noise: float = 1.0,
    per_class: bool = False,
    fit_probe: bool = True,
) -> dict[str, Any]:
    """The shared per-query problem: synthetic features, a labeled set, a fitted probe.

    The same arguments give the same arrays, labeled set and (on CPU) probe in every child,
    so alkit, the peer and the arithmetic limit see identical inputs. The probe is the one an
    ``ActiveLearner(…, seed=seed)`` fits first on this labeled set (the same random stream,
    ``alkit._random.run_streams(seed)["probe"]``, and settings).

    Parameters
    ----------
    noise : float
        The synthetic set's within-class spread (``synthetic:…,noise=…``).
    per_class : bool
        Draw ``n_labeled / C`` labeled points per class (else ``n_labeled`` uniformly).
    fit_probe : bool
        Fit the probe (``probe`` is None otherwise).

    Returns
    -------
    dict
        ``x`` (N, d) float32, ``y`` (N,), ``labeled`` (N,) bool, ``labels`` (N,) int64 with −1
        where unlabeled, ``probe`` (a fitted :class:`alkit.LinearProbe` or None),
        ``probe_settings`` (the ``ActiveLearner(probe=…)`` dict), ``setup_seconds``, ``fit_epochs``.
    """
    import numpy as np

    import alkit
    from alkit._random import run_streams

    t0 = time.perf_counter()
    x, y = synthetic_x(N, d, C, seed, noise)
    rng = np.random.default_rng([seed, 7])
    if per_class:
        per = max(1, n_labeled // C)
        lab = np.sort(
            np.concatenate(
                [
                    rng.choice(np.flatnonzero(y == c), min(per, int((y == c).sum())), replace=False)
                    for c in range(C)
                ]
            )
        )
    else:
        lab = np.sort(rng.choice(N, n_labeled, replace=False))
    labeled = np.zeros(N, dtype=bool)
    labeled[lab] = True
    labels = np.where(labeled, y, -1).astype(np.int64)
    settings = {} if max_epochs is None else {"max_epochs": int(max_epochs)}
    probe = None
    if fit_probe:
        probe = alkit.LinearProbe(
            C, seed=run_streams(seed)["probe"], device=device, **settings
        ).fit(x[lab], y[lab])
    return {
        "x": x,
        "y": y,
        "labeled": labeled,
        "labels": labels,
        "probe": probe,
        "probe_settings": settings,
        "setup_seconds": time.perf_counter() - t0,
        "fit_epochs": int(probe.n_epochs_) if probe is not None else None,
    }


def query_problem(m: Mode, regime: str, device: str = "cpu", fit_probe: bool = False):
    """The per-query benchmark's problem on pool ``regime`` (:data:`REGIMES`), identical for
    alkit's side and the peer's: :func:`make_problem` with |L| drawn per class."""
    q = m.query
    return make_problem(
        q["N"],
        q["d"],
        q["C"],
        q["n_labeled"],
        device=device,
        max_epochs=m.extra.get("max_epochs"),
        noise=float(m.regimes[regime]),
        per_class=True,
        fit_probe=fit_probe,
    )


def strategy_registered(name: str) -> tuple[bool, str]:
    """Whether strategy ``name`` is registered; else the reason to record."""
    import alkit

    if name in alkit.strategies.available():
        return True, ""
    return (
        False,
        f"strategy {name!r} is not registered in this alkit (available: {', '.join(alkit.strategies.available())})",
    )


def limit_threads_info() -> dict[str, Any]:
    """Thread counts the child runs with (recorded with every row)."""
    out: dict[str, Any] = {}
    try:
        import torch

        out["torch_threads"] = torch.get_num_threads()
    except ImportError:  # pragma: no cover
        pass
    return out


def selftest(emit, action: str = "ok", seconds: float = 30.0, gib: float = 4.0) -> None:
    """A child target without torch, for the runner's own tests.

    ``action``: ``"ok"`` emits one row; ``"sleep"`` emits one row, then sleeps ``seconds``;
    ``"alloc"`` allocates ``gib`` GiB (a MemoryError under a smaller limit); ``"raise"`` raises.
    """
    emit({"action": action, "status": "ok", "step": 1})
    if action == "sleep":
        time.sleep(seconds)
    elif action == "alloc":
        block = bytearray(int(gib * GIB))
        emit({"action": action, "status": "ok", "step": 2, "bytes": len(block)})
    elif action == "raise":
        raise ValueError("selftest asked to fail")


# ---------------------------------------------------------------------------- CSV
def write_csv(rows: list[dict[str, Any]], path: Path, columns: list[str] | None = None) -> Path:
    """Write ``rows`` (union of keys, first-seen order unless ``columns``) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if columns is None:
        columns = []
        for r in rows:
            for k in r:
                if k not in columns:
                    columns.append(k)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: _csv_value(r.get(k)) for k in columns})
    os.replace(tmp, path)
    return path


def _csv_value(v: Any) -> Any:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.6g}"
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    return "" if v is None else v


def median(values: list[float]) -> float:
    vals = sorted(v for v in values if v is not None and not math.isnan(v))
    if not vals:
        return float("nan")
    m = len(vals) // 2
    return vals[m] if len(vals) % 2 else 0.5 * (vals[m - 1] + vals[m])


def status_row(base: dict[str, Any], res: CaseResult) -> dict[str, Any]:
    """A row recording a case that produced no measurement (skipped, timeout, oom, error)."""
    return {
        **base,
        "status": res.status,
        "note": res.message,
        "case_seconds": round(res.seconds, 2),
    }


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        sys.exit(_child_main(sys.argv[2], sys.argv[3], sys.argv[4]))
    print(__doc__)
    sys.exit(1)
