"""Many rows through the command line: peak memory, posterior.nc size and wall time of ``bayesreg fit
--method nuts`` on 20,000 and 200,000 rows (issue 13's "outputs whose size does not grow with n × draws").

Data: 10 AR(1) columns (ρ = 0.5) on different scales (sd 10^k for k = -3 … 5, as users' units are),
true weights with half of them 0; a Gaussian target (unit noise on the standardised scale) and a
binary target (``--family bernoulli``), written as CSV files in a temporary folder.

Each fit runs as its own process, as a user runs it: ``bayesreg fit DATA.csv --target y --method nuts
--seed 0 --out DIR`` under ``/usr/bin/time -v``, which reports the process's wall time and its peak
resident memory. Sizes take turns (20k, 200k, 20k, 200k, …) after one warm-up run each, which also
fills the command's persistent compilation cache, so that load from other processes hits both alike.

Goals (issue 13): Gaussian, 200,000 rows: peak memory ≤ 1 GB, posterior.nc ≤ 50 MB, wall time ≤ 1.5 ×
the same fit on 20,000 rows; logistic, 200,000 rows: peak memory ≤ 1 GB.

    python benchmarks/bench_large.py                 # both families, 3 timed runs per size
    python benchmarks/bench_large.py --family gaussian --repeats 5
    python benchmarks/bench_large.py --family gaussian --bayesreg OTHER/.venv/bin/bayesreg .venv/bin/bayesreg
    python benchmarks/bench_large.py --family gaussian --num-warmup 500
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

SIZES = (20_000, 200_000)
NUM_FEATURES = 10


def make_csv(folder: Path, n: int, family: str, seed: int = 0) -> Path:
    """The data set of ``n`` rows for ``family`` ("gaussian" or "bernoulli") as a CSV file."""
    rng = np.random.default_rng(seed)
    rho = 0.5
    z = np.empty((n, NUM_FEATURES))
    z[:, 0] = rng.standard_normal(n)
    for j in range(1, NUM_FEATURES):
        z[:, j] = rho * z[:, j - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    weights = np.where(np.arange(NUM_FEATURES) % 2 == 0, 1.0, 0.0)
    signal = z @ weights
    scales = 10.0 ** np.linspace(-3, 5, NUM_FEATURES)
    frame = pd.DataFrame(z * scales, columns=[f"x{j}" for j in range(NUM_FEATURES)])
    if family == "gaussian":
        frame["y"] = 3.0 + signal + rng.standard_normal(n)
    else:
        frame["y"] = (rng.random(n) < 1.0 / (1.0 + np.exp(-0.5 * signal))).astype(int)
    path = folder / f"{family}_{n}.csv"
    frame.to_csv(path, index=False)
    return path


def run_fit(csv: Path, family: str, out: Path, bayesreg: str, num_warmup: int | None = None) -> dict:
    """One ``bayesreg fit`` process (the command ``bayesreg``, with ``--num-warmup`` when given): its
    wall time, CPU time (user + system), peak memory, exit status and posterior.nc size."""
    shutil.rmtree(out, ignore_errors=True)
    command = [
        str(bayesreg),
        "fit",
        str(csv),
        "--target",
        "y",
        "--method",
        "nuts",
        "--seed",
        "0",
        "--out",
        str(out),
    ]
    if family == "bernoulli":
        command += ["--family", "bernoulli"]
    if num_warmup is not None:
        command += ["--num-warmup", str(num_warmup)]
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    report = done.stderr
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", report)
    hours, minutes, seconds = (float(g) if g else 0.0 for g in wall.groups())
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", report).group(1))
    exit_status = int(re.search(r"Exit status: (\d+)", report).group(1))
    netcdf = out / "posterior.nc"
    cpu = sum(
        float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", report).group(1))
        for kind in ("User", "System")
    )
    return {
        "wall_s": 3600 * hours + 60 * minutes + seconds,
        "cpu_s": cpu,
        "peak_mb": peak_kb / 1024,
        "netcdf_mb": netcdf.stat().st_size / 2**20 if netcdf.exists() else float("nan"),
        "exit": exit_status,
        "stderr_tail": "\n".join(line for line in report.splitlines() if not line.startswith("\t"))[-400:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", choices=["gaussian", "bernoulli", "both"], default="both")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per size (after one warm-up)")
    parser.add_argument(
        "--bayesreg",
        nargs="+",
        default=[str(Path(sys.executable).with_name("bayesreg"))],
        help="bayesreg commands to time, taking turns (e.g. another checkout's, for a before/after)",
    )
    parser.add_argument(
        "--num-warmup", type=int, default=None, help="warmup steps per chain (default: the command's)"
    )
    args = parser.parse_args()
    families = ["gaussian", "bernoulli"] if args.family == "both" else [args.family]
    runs_of = [(command, n) for command in args.bayesreg for n in SIZES]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for family in families:
            csvs = {n: make_csv(folder, n, family) for n in SIZES}
            runs = {key: [] for key in runs_of}
            for command, n in runs_of:  # warm-up: fills the compilation cache
                warm = run_fit(csvs[n], family, folder / "out", command, args.num_warmup)
                print(
                    f"{family} {command} n={n} warm-up: exit {warm['exit']}, {warm['wall_s']:.1f} s",
                    flush=True,
                )
                if warm["exit"] not in (0, 3):
                    print(warm["stderr_tail"])
            for _ in range(args.repeats):
                for command, n in runs_of:
                    runs[command, n].append(
                        run_fit(csvs[n], family, folder / "out", command, args.num_warmup)
                    )
            load = os.getloadavg()[0]
            warmup = "default" if args.num_warmup is None else args.num_warmup
            settings = f"4 chains x ({warmup} warmup + default draws)"
            print(
                f"\n{family}: {NUM_FEATURES} columns, {settings}, medians of {args.repeats}, load {load:.1f}"
            )
            for command in args.bayesreg:
                print(command)
                print(
                    f"{'rows':>8} {'wall s':>8} {'cpu s':>7} {'peak MB':>8} {'nc MB':>7} exit  (min-max wall)"
                )
                for n in SIZES:
                    done = runs[command, n]
                    walls = [r["wall_s"] for r in done]
                    print(
                        f"{n:>8} {statistics.median(walls):8.1f} "
                        f"{statistics.median(r['cpu_s'] for r in done):7.1f} "
                        f"{statistics.median(r['peak_mb'] for r in done):8.0f} "
                        f"{statistics.median(r['netcdf_mb'] for r in done):7.2f} "
                        f"{','.join(str(r['exit']) for r in done):>4}  ({min(walls):.1f}-{max(walls):.1f})"
                    )
                small, large = (statistics.median(r["wall_s"] for r in runs[command, n]) for n in SIZES)
                small_cpu, large_cpu = (
                    statistics.median(r["cpu_s"] for r in runs[command, n]) for n in SIZES
                )
                print(
                    f"wall ratio {SIZES[1]}/{SIZES[0]} rows: {large / small:.2f} "
                    f"(CPU time ratio {large_cpu / small_cpu:.2f})",
                    flush=True,
                )


if __name__ == "__main__":
    main()
