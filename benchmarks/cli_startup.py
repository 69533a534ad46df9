"""How long the command line takes to answer ``--help`` and ``--version`` (issue 16: under 1 s).

Each command runs ``--repeats`` times in a fresh interpreter; the median wall time is printed
and written to ``results/latest/cli_startup.csv`` (or ``--out``). Run:

    python benchmarks/cli_startup.py
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "alkit --help": ["-m", "alkit", "--help"],
    "alkit --version": ["-m", "alkit", "--version"],
    "alkit run --help": ["-m", "alkit", "run", "--help"],
    "alkit sweep --help": ["-m", "alkit", "sweep", "--help"],
}
TARGET_S = 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh interpreters per command")
    parser.add_argument(
        "--out",
        default=str(Path(__file__).with_name("results") / "latest"),
        help="folder of cli_startup.csv",
    )
    args = parser.parse_args(argv)
    rows = []
    for name, cmd in COMMANDS.items():
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, *cmd], capture_output=True, check=True)
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        rows.append(
            {
                "command": name,
                "median_s": round(med, 3),
                "min_s": round(min(times), 3),
                "target_s": TARGET_S if name.endswith(("alkit --help", "--version")) else "",
                "load": round(os.getloadavg()[0], 2),
            }
        )
        print(f"{name:<22} median {med:.3f} s  (min {min(times):.3f} s)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "cli_startup.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
