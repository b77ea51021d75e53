"""Issue 16: the Gaussian likelihood's statistics from one Dask pass, against merely reading the files.

On the files of ``make_large_parquet.py`` (``--data``, a glob), on a local cluster of 2 worker
processes (or ``--scheduler``):

- read: ``dd.read_parquet(...)`` reduced by a trivial sum per partition (the time to read the files);
- reduce: `bayesreg.large.read_moments` (read, check every cell, per-partition moments, tree merge);
- MAP: `bayesreg.large.map_from_moments` (lasso, alpha 0.01, the columns standardised) from them;
- end to end: ``bayesreg fit DATA --engine dask --alpha 0.01 --standardize`` as its own process,
  under ``/usr/bin/time -v`` (wall time, peak memory of the command's process); with ``--nuts`` also
  with ``--method nuts --seed 0`` (4 chains x (500 + 1000) from the statistics);

with rows/s of both passes and each worker's peak memory (its resident set, sampled by the
scheduler). The figures need a quiet machine: on a shared one, compare read and reduce in the same run.

    python benchmarks/make_large_parquet.py --out /tmp/medium --rows 1000000
    python benchmarks/bench_dask.py --data '/tmp/medium/*.parquet' --repeats 2 --nuts

With ``--logistic`` (files of ``make_large_parquet.py --family bernoulli``): the logistic MAP through
Dask (`bayesreg.large.read_logistic_map`, the columns standardised, L2 at ``C = 1`` and L1 at
``C = 0.001``: read, check, persist, one pass per proximal Newton step) against scikit-learn's
``LogisticRegression`` with the same penalty on the same rows in memory (``StandardScaler`` then
newton-cholesky for L2, saga for L1, ``tol`` 1e-8), as its own process under ``/usr/bin/time -v``
(reading the files with pandas, fitting; its peak memory), alternating Dask and scikit-learn; the
largest coefficient difference between the two says how far apart their stopping points are.

    python benchmarks/make_large_parquet.py --out /tmp/binary --rows 1000000 --family bernoulli
    python benchmarks/bench_dask.py --data '/tmp/binary/*.parquet' --logistic

With ``--poisson`` (files of ``make_large_parquet.py --family poisson``): the Poisson MAP through
Dask (`bayesreg.large.read_count_map`, the columns standardised, glum's convention, L1 and L2 at
``alpha = 0.01``: read, check, persist, one pass per proximal Newton step) against glum's
``GeneralizedLinearRegressor`` with the same penalty on the same rows in memory (``StandardScaler``
then glum, ``gradient_tol`` 1e-8), as its own process under ``/usr/bin/time -v`` (reading the files
with pandas, fitting; its peak memory), alternating Dask and glum; the largest coefficient
difference between the two says how far apart their stopping points are.

    python benchmarks/make_large_parquet.py --out /tmp/counts --rows 1000000 --family poisson
    python benchmarks/bench_dask.py --data '/tmp/counts/*.parquet' --poisson --repeats 1

With ``--many-rows N`` (no files): the NUTS fit of ``fit --engine dask --method nuts`` (lasso, alpha
0.01, standardised, σ sampled, 4 chains x (500 + 1000), seed 0: `bayesreg.large.posterior_from_moments`)
on the statistics of N rows of ``make_large_parquet.py``'s generator, made from 10⁵ generated rows
each repeated N/10⁵ times (the chains see the data only through the statistics): wall time, the
leapfrog steps per draw, the share of draws at the maximum tree depth, the step sizes, R-hat, bulk
ESS and ESS per second.

    python benchmarks/bench_dask.py --many-rows 10000000
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _sum_rows(frame) -> float:
    return float(frame.to_numpy().sum())


def read_only(pattern: str, client) -> tuple[float, int]:
    """Seconds to read every partition (and sum it: nothing kept), and the rows."""
    import dask
    import dask.dataframe as dd

    from bayesreg.large import read_moments

    # the partitions read_moments reads
    blocksize = inspect.signature(read_moments).parameters["blocksize"].default
    frame = dd.read_parquet(pattern, blocksize=blocksize)
    parts = [dask.delayed(_sum_rows)(part) for part in frame.to_delayed()]
    counts = frame.map_partitions(len)
    start = time.perf_counter()
    client.compute(parts, sync=True)
    elapsed = time.perf_counter() - start
    return elapsed, int(counts.compute().sum())


class PeakMemory:
    """The largest resident memory of any worker while the block runs, sampled every 0.2 s."""

    def __init__(self, client):
        self.client, self.peak, self._stop = client, 0.0, threading.Event()

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            workers = self.client.scheduler_info()["workers"].values()
            self.peak = max([self.peak, *(w["metrics"]["memory"] for w in workers)])
            time.sleep(0.2)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


HEAVY = ("jax", "numpyro", "sklearn")


def worker_peaks(client) -> dict:
    """Each worker process's peak resident memory since it started (MB: ``VmHWM`` of
    /proc/self/status, so nothing between two samples is missed) and which of JAX, NumPyro and
    scikit-learn it imported. Not ``ru_maxrss``: Linux keeps it across ``exec``, and a worker is
    forked from the process that starts the cluster before it runs Python afresh, so its
    ``ru_maxrss`` is at least that process's memory at the time (390 MB when it had imported JAX)."""

    def peak():  # nested, so that Dask ships it by value: running it imports nothing on the worker
        with open("/proc/self/status") as status:
            kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        return kb / 1024, [name for name in HEAVY if name in sys.modules]

    return client.run(peak)


def show_peaks(label: str, peaks: dict) -> str:
    values = ", ".join(
        f"{mb:.0f} MB" + (f" ({'+'.join(mods)})" if mods else "") for mb, mods in peaks.values()
    )
    return f"{label}: {values}"


def largest_row_group(pattern: str) -> str:
    """The largest row group of the Parquet files (rows and uncompressed MB, from their footers): a
    partition holds at least one, and reading it costs a worker several times its size."""
    import glob

    import pyarrow.parquet as pq

    groups = [
        meta.row_group(i)
        for path in glob.glob(pattern)
        for meta in [pq.read_metadata(path)]
        for i in range(meta.num_row_groups)
    ]
    largest = max(groups, key=lambda group: group.total_byte_size)
    return (
        f"largest row group of {pattern}: {largest.num_rows:,} rows, {largest.total_byte_size / 2**20:.0f} MB"
    )


def worker_memory(args) -> None:
    """Each worker's peak memory (``VmHWM``) on fresh local clusters: idle after start, after the
    Gaussian reduction of ``--data``, and after a logistic MAP (L2, C = 1, standardised) of
    ``--logistic-data``; with the wall time of each, and the files' largest row group."""
    import os

    from bayesreg.large import dask_client, read_logistic_map, read_moments

    print(f"bayesreg from {sys.modules['bayesreg'].__file__}; load average {os.getloadavg()}")
    print(largest_row_group(args.data))
    with dask_client() as client:
        print(show_peaks("idle workers", worker_peaks(client)))
        start = time.perf_counter()
        read_moments(args.data, "y", client=client, progress=False)
        wall = time.perf_counter() - start
        print(show_peaks(f"after the Gaussian reduction ({wall:.1f} s)", worker_peaks(client)))
    if args.logistic_data:
        print(largest_row_group(args.logistic_data))
        with dask_client() as client:
            start = time.perf_counter()
            result = read_logistic_map(
                args.logistic_data, "y", client=client, progress=False, prior="gaussian", standardize=True
            )
            wall = time.perf_counter() - start
            label = (
                f"after the logistic MAP ({wall:.1f} s, {result.passes} passes, persisted {result.persisted})"
            )
            print(show_peaks(label, worker_peaks(client)))
    print(f"load average after: {os.getloadavg()}")


def end_to_end(
    pattern: str, bayesreg: str, scheduler: str | None, *, nuts: bool = False
) -> tuple[float, float]:
    """Wall seconds and peak memory (MB) of ``bayesreg fit`` through Dask, as its own process (with
    ``nuts``, ``--method nuts``; its exit status 3, a failed diagnostics gate, is printed)."""
    with tempfile.TemporaryDirectory() as out:
        argv = [bayesreg, "fit", pattern, "--target", "y", "--engine", "dask", "--alpha", "0.01"]
        argv += ["--standardize", "--out", out] + (["--scheduler", scheduler] if scheduler else [])
        argv += ["--method", "nuts", "--seed", "0"] if nuts else []
        done = subprocess.run(["/usr/bin/time", "-v", *argv], capture_output=True, text=True)
    if done.returncode not in (0, 3):
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr}")
    if nuts:
        print(next(line for line in done.stdout.splitlines() if line.startswith("diagnostics:")))
    wall = re.search(r"Elapsed \(wall clock\) time .*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    hours, minutes, seconds = (float(g) if g else 0.0 for g in wall.groups())
    peak = float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) / 1024
    return 3600 * hours + 60 * minutes + seconds, peak


SKLEARN_FIT = """
import glob, json, sys, time
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
pattern, C, l1_ratio = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
start = time.perf_counter()
frame = pd.concat([pd.read_parquet(path) for path in sorted(glob.glob(pattern))], ignore_index=True)
y = frame.pop("y").to_numpy()
X = frame.to_numpy(dtype=np.float64)
read = time.perf_counter() - start
scaler = StandardScaler().fit(X)
solver = "newton-cholesky" if l1_ratio == 0 else "saga"
est = LogisticRegression(C=C, l1_ratio=l1_ratio, solver=solver, tol=1e-8, max_iter=int(sys.argv[4]))
est.fit(scaler.transform(X), y)
fit = time.perf_counter() - start - read
coef = est.coef_[0] / scaler.scale_
print(json.dumps({"read": read, "fit": fit, "n_iter": int(est.n_iter_[0]), "coef": coef.tolist()}))
"""
LOGISTIC_CASES = (("gaussian", 1.0), ("laplace", 1000.0))  # (prior, alpha = 1/C)
SKLEARN_MAX_ITER = 300


def fit_in_process(script: str, *argv) -> tuple[dict, float]:
    """A peer's fit (``script`` with ``argv``) as its own process under ``/usr/bin/time -v``: the JSON
    it prints last (its times, iterations and coefficients) and the process's peak memory (MB)."""
    command = [sys.executable, "-c", script, *map(str, argv)]
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    peak = float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) / 1024
    return json.loads(done.stdout.strip().splitlines()[-1]), peak


def logistic(args) -> None:
    """The logistic MAP through Dask against scikit-learn in memory (the module's notes)."""
    import os

    import numpy as np

    from bayesreg.large import dask_client, read_logistic_map

    print(f"load average before: {os.getloadavg()}")
    with dask_client(args.scheduler) as client:
        for prior, alpha in LOGISTIC_CASES:
            for _ in range(args.repeats):
                with PeakMemory(client) as memory:
                    start = time.perf_counter()
                    result = read_logistic_map(
                        args.data,
                        "y",
                        client=client,
                        progress=False,
                        prior=prior,
                        alpha=alpha,
                        standardize=True,
                    )
                    wall = time.perf_counter() - start
                coef = result.map.params["coef"]
                print(
                    f"dask {prior} C={1 / alpha:g}: {wall:.1f} s, {result.map.num_steps} Newton steps, "
                    f"{result.passes} passes, persisted {result.persisted}, residual "
                    f"{result.map.residual:.1e}, {int((coef == 0).sum())} zeros, peak worker memory "
                    f"{memory.peak / 2**20:.0f} MB"
                )
                l1_ratio = 0.0 if prior == "gaussian" else 1.0
                fitted, peak = fit_in_process(SKLEARN_FIT, args.data, 1.0 / alpha, l1_ratio, SKLEARN_MAX_ITER)
                gap = np.max(np.abs(np.asarray(fitted["coef"]) - coef) / np.maximum(np.abs(coef), 1e-12))
                print(
                    f"sklearn {prior} C={1 / alpha:g}: read {fitted['read']:.1f} s + fit "
                    f"{fitted['fit']:.1f} s ({fitted['n_iter']} iterations of at most {SKLEARN_MAX_ITER}), "
                    f"peak memory {peak:.0f} MB; largest relative "
                    f"coefficient difference {gap:.1e}"
                )
    print(f"load average after: {os.getloadavg()}")


GLUM_FIT = """
import glob, json, sys, time
import numpy as np, pandas as pd
from glum import GeneralizedLinearRegressor
from sklearn.preprocessing import StandardScaler
pattern, alpha, l1_ratio = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
start = time.perf_counter()
frame = pd.concat([pd.read_parquet(path) for path in sorted(glob.glob(pattern))], ignore_index=True)
y = frame.pop("y").to_numpy(dtype=np.float64)
X = frame.to_numpy(dtype=np.float64)
read = time.perf_counter() - start
scaler = StandardScaler().fit(X)
est = GeneralizedLinearRegressor(family="poisson", alpha=alpha, l1_ratio=l1_ratio, gradient_tol=1e-8)
est.fit(scaler.transform(X), y)
fit = time.perf_counter() - start - read
coef = est.coef_ / scaler.scale_
print(json.dumps({"read": read, "fit": fit, "n_iter": int(est.n_iter_), "coef": coef.tolist()}))
"""
POISSON_CASES = (("laplace", 0.01), ("gaussian", 0.01))  # (prior, glum's alpha)


def poisson(args) -> None:
    """The Poisson MAP through Dask against glum in memory (the module's notes)."""
    import os

    import numpy as np

    from bayesreg.large import dask_client, read_count_map

    print(f"load average before: {os.getloadavg()}")
    with dask_client(args.scheduler) as client:
        for prior, alpha in POISSON_CASES:
            for _ in range(args.repeats):
                with PeakMemory(client) as memory:
                    start = time.perf_counter()
                    result = read_count_map(
                        args.data,
                        "y",
                        client=client,
                        progress=False,
                        prior=prior,
                        alpha=alpha,
                        standardize=True,
                    )
                    wall = time.perf_counter() - start
                coef = result.map.params["coef"]
                print(
                    f"dask poisson {prior} alpha={alpha:g}: {wall:.1f} s, {result.map.num_steps} Newton "
                    f"steps, {result.passes} passes, persisted {result.persisted}, residual "
                    f"{result.map.residual:.1e}, {int((coef == 0).sum())} zeros, peak worker memory "
                    f"{memory.peak / 2**20:.0f} MB; load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
                l1_ratio = 0.0 if prior == "gaussian" else 1.0
                fitted, peak = fit_in_process(GLUM_FIT, args.data, alpha, l1_ratio)
                gap = np.max(np.abs(np.asarray(fitted["coef"]) - coef) / np.maximum(np.abs(coef), 1e-12))
                zeros = int((np.asarray(fitted["coef"]) == 0).sum())
                print(
                    f"glum poisson {prior} alpha={alpha:g}: read {fitted['read']:.1f} s + fit "
                    f"{fitted['fit']:.1f} s ({fitted['n_iter']} iterations), {zeros} zeros, peak memory "
                    f"{peak:.0f} MB; largest relative coefficient difference {gap:.1e}; load "
                    f"{os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    print(f"load average after: {os.getloadavg()}")


def curves(args) -> None:
    """Cost curves: for each glob of ``--curve`` (data sets of several n and p), on one local cluster,
    the time to merely read the files, the reduction (`read_moments`), the lasso MAP and (for up to
    ``--curve-nuts-max-p`` features) the NUTS posterior (default settings) from the statistics, and
    the workers' peak memory so far; one Markdown table row each."""
    import os
    import warnings

    from bayesreg.large import dask_client, map_from_moments, posterior_from_moments, read_moments

    print(f"load average before: {os.getloadavg()}")
    print("| n | p | read only | reduction | rows/s (share of read speed) | MAP | NUTS | worker peak |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    with dask_client(args.scheduler) as client:
        for pattern in args.curve:
            read, rows = read_only(pattern, client)
            start = time.perf_counter()
            moments = read_moments(pattern, "y", client=client, progress=False)
            reduce = time.perf_counter() - start
            start = time.perf_counter()
            map_from_moments(moments, prior="laplace", alpha=0.01, standardize=True)
            fit_map = time.perf_counter() - start
            nuts = "not run"
            if len(moments.names) <= args.curve_nuts_max_p:
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    posterior_from_moments(
                        moments, prior="laplace", alpha=0.01, standardize=True, seed=0, progress_bar=False
                    )
                nuts = f"{time.perf_counter() - start:.1f} s"
            peak = max(mb for mb, _ in worker_peaks(client).values())
            print(
                f"| {rows:,} | {len(moments.names)} | {read:.2f} s | {reduce:.2f} s | "
                f"{rows / reduce:,.0f} ({read / reduce:.0%}) | {fit_map:.3f} s | {nuts} | {peak:.0f} MB |",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()}")


def many_rows(rows: int, base: int = 100_000) -> None:
    """`posterior_from_moments` on the statistics of ``rows`` rows (``base`` rows of the generator,
    each repeated ``rows // base`` times)."""
    import os
    import warnings

    import numpy as np
    from make_large_parquet import columns

    from bayesreg.large import DaskMoments, posterior_from_moments

    p = 50
    means, sds, weights = columns(p)
    z = np.random.default_rng(0).standard_normal((base, p))
    values = np.column_stack([means + sds * z, z @ weights + np.random.default_rng(1).standard_normal(base)])
    centred = values - values.mean(axis=0)
    repeat = rows // base
    moments = DaskMoments(
        [f"x{j}" for j in range(p)],
        "y",
        base * repeat,
        values.mean(axis=0),
        repeat * centred.T @ centred,
        values.min(axis=0),
        values.max(axis=0),
        [],
    )
    print(f"load average: {os.getloadavg()}")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = posterior_from_moments(moments, prior="laplace", alpha=0.01, standardize=True, seed=0).fit
    wall = time.perf_counter() - start
    stats, report = fit.idata.sample_stats, fit.diagnostics
    steps = stats["n_steps"].to_numpy()
    print(
        f"n = {moments.n:,}: {wall:.1f} s, {fit.parametrisation}, {fit.mass_matrix} mass matrix; "
        f"{steps.mean():.0f} leapfrog steps per draw, {report.tree_depth_saturation:.1%} of draws at "
        f"the maximum tree depth; step sizes {np.unique(stats['step_size'].to_numpy()).round(6).tolist()}; "
        f"max R-hat {report.max_rhat:.4f}, min bulk ESS {report.min_ess_bulk:.0f} "
        f"({report.min_ess_bulk / wall:.1f}/s), {report.divergences} divergences"
    )
    print(f"load average after: {os.getloadavg()}")


def main() -> None:
    import os

    from bayesreg.large import dask_client, map_from_moments, read_moments

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", help="a glob of Parquet files (make_large_parquet.py)")
    parser.add_argument("--scheduler", default=None)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--bayesreg", default=str(Path(sys.executable).with_name("bayesreg")))
    parser.add_argument("--nuts", action="store_true", help="also time fit --method nuts end to end")
    parser.add_argument("--nuts-only", action="store_true", help="time fit end to end with NUTS only")
    parser.add_argument("--logistic", action="store_true", help="the logistic MAP against scikit-learn")
    parser.add_argument("--poisson", action="store_true", help="the Poisson MAP against glum")
    parser.add_argument("--memory", action="store_true", help="workers' peak memory on fresh clusters")
    parser.add_argument("--logistic-data", default=None, help="bernoulli files for --memory")
    parser.add_argument("--curve", nargs="+", help="globs of data sets of several n and p: cost curves")
    parser.add_argument("--curve-nuts-max-p", type=int, default=100)
    parser.add_argument("--many-rows", type=int, help="NUTS on the statistics of this many rows")
    args = parser.parse_args()
    if args.many_rows:
        many_rows(args.many_rows)
        return
    if args.curve:
        curves(args)
        return
    if args.data is None:
        parser.error("--data is required (or --curve)")
    if args.logistic:
        logistic(args)
        return
    if args.poisson:
        poisson(args)
        return
    if args.memory:
        worker_memory(args)
        return
    print(f"load average: {os.getloadavg()}")
    reads, reduces, maps, peaks, peaks_so_far = [], [], [], [], {}
    for _ in range(args.repeats):
        with dask_client(args.scheduler) as client:
            seconds, rows = read_only(args.data, client)
            reads.append(seconds)
        # the reduction on fresh workers (a local cluster of its own): their VmHWM is its peak
        with dask_client(args.scheduler) as client, PeakMemory(client) as memory:
            start = time.perf_counter()
            moments = read_moments(args.data, "y", client=client, progress=False)
            reduces.append(time.perf_counter() - start)
            peaks_so_far = worker_peaks(client)
        peaks.append(memory.peak / 2**20)
        start = time.perf_counter()
        map_from_moments(moments, prior="laplace", alpha=0.01, standardize=True)
        maps.append(time.perf_counter() - start)
    read, reduce = statistics.median(reads), statistics.median(reduces)
    print(f"{rows} rows x {len(moments.names)} features, {args.repeats} repeats (medians)")
    print(f"read only: {read:.1f} s ({rows / read:,.0f} rows/s)")
    print(f"reduce:    {reduce:.1f} s ({rows / reduce:,.0f} rows/s, {read / reduce:.0%} of read speed)")
    print(f"MAP from the statistics: {statistics.median(maps):.3f} s")
    print(f"peak worker memory during the reduction (sampled): {max(peaks):.0f} MB")
    print(show_peaks("workers' peak memory during the reduction (VmHWM)", peaks_so_far))
    print(f"load average: {os.getloadavg()}", flush=True)
    if not args.nuts_only:
        wall, peak = end_to_end(args.data, args.bayesreg, args.scheduler)
        print(
            f"bayesreg fit --engine dask end to end: {wall:.1f} s, peak memory of the command {peak:.0f} MB"
        )
    if args.nuts or args.nuts_only:
        # on fresh workers of a cluster started here (its start timed apart), to read their peaks
        start = time.perf_counter()
        with dask_client(args.scheduler) as fresh:
            started = time.perf_counter() - start
            wall, peak = end_to_end(args.data, args.bayesreg, fresh.scheduler.address, nuts=True)
            print(
                f"bayesreg fit --engine dask --method nuts end to end: {wall:.1f} s (+ {started:.1f} s "
                f"to start the cluster), peak {peak:.0f} MB (the command's process)"
            )
            print(show_peaks("workers' peak memory during it (VmHWM)", worker_peaks(fresh)))
        print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
