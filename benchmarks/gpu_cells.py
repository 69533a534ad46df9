"""The paper's grid on a GPU: grid_cost's cells measured on CUDA, in at most 5 minutes.

One prepared script for a lent GPU machine::

    python benchmarks/gpu_cells.py                  # → benchmarks/results/quick/grid_cost_cuda.{csv,md}
    python benchmarks/gpu_cells.py --out DIR --deadline 240
    python benchmarks/gpu_cells.py --device cpu --smoke --out /tmp/g   # the code path, anywhere

It measures the same cells as ``benchmarks/grid_cost.py`` (every paper strategy on the same
synthetic pools, query / probe fit / evaluation timed apart, wall-clock after
``torch.cuda.synchronize()``), fits the same cost model and extrapolates the same grid
(``alkit/grids/paper_backbones.yaml``) to GPU hours: ``grid_cost_cuda.csv``,
``grid_cost_cuda.md``, ``grid_cells_cuda.csv`` and ``machine_grid_cuda.json`` in ``--out``
(default ``benchmarks/results/quick/``, git-ignored: copy what you keep to ``results/latest/``).
``grid_cells_cuda.csv`` has every measured iteration, so each strategy's per-query GPU time too.

An internal deadline (``--deadline``, 270 s by default, so that the whole script with its
start-up stays under 5 minutes) stops measuring: no new iteration starts after it and the files
are written from what was measured; strategies without rows are left blank in the extrapolation
and listed as not measured. Without a CUDA device it exits with code 2 and says so.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

#: Seconds of measuring; start-up (imports, CUDA context) and writing take the rest of 5 minutes.
DEADLINE_S = 270.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--out", type=Path, default=HERE / "results" / "quick", help="results folder (created)"
    )
    p.add_argument(
        "--deadline",
        type=float,
        default=DEADLINE_S,
        help=f"stop measuring after S seconds (default {DEADLINE_S:.0f})",
    )
    p.add_argument(
        "--device", default="cuda", help="cuda (default); cpu only to check the code path"
    )
    p.add_argument(
        "--smoke", action="store_true", help="grid_cost's tiny pools, in-process (seconds)"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Measure, fit, extrapolate and write; 2 when the device is CUDA and none is visible."""
    t0 = time.time()
    args = parse_args(argv)
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(
            "gpu_cells.py: no CUDA device is visible to torch (torch "
            f"{torch.__version__}, CUDA build {torch.version.cuda}); run it on a GPU machine, "
            "or use benchmarks/grid_cost.py for the CPU figures.",
            file=sys.stderr,
        )
        return 2
    import grid_cost

    tag = ("_smoke" if args.smoke else "") + ("_cuda" if args.device != "cpu" else "_gpu_cells")
    argv_text = sys.argv[1:] if argv is None else argv
    grid_cost.run(
        "smoke" if args.smoke else "full",
        args.out,
        args.device,
        deadline_s=max(args.deadline - (time.time() - t0), 5.0),
        tag=tag,
        command=" ".join(["python", "benchmarks/gpu_cells.py", *argv_text]),
    )
    print(f"gpu_cells.py: done in {time.time() - t0:.0f} s; see {args.out}/grid_cost{tag}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
