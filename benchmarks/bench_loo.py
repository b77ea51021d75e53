"""PSIS-LOO in blocks of rows (`bayesreg.loo.pointwise_loo`) against `arviz.loo` on the full matrix.

Issue 13, item 3: the n × draws log-likelihood must not be needed whole. A Gaussian linear model with
10 columns, σ sampled, 4 chains × 1000 draws; each measurement runs in a fresh Python process
(launched by this script) so its peak resident memory (``ru_maxrss``, which counts JAX's CPU
buffers too) is its own; its wall and CPU time (all threads: the CPU time is the figure to read
when other jobs share the machine), in seconds and per row (compilation included):

* ``chunked``: ``pointwise_loo(linear_regression, draws, X, y, ...)`` then ``.elpd_data()``, with
  the default budget `bayesreg.loo.CHUNK_BYTES` and a thread per CPU core (``chunked1``: one thread,
  the CPU time per row without the threads' contention for memory and caches);
* ``full``: what a fit keeps today and ArviZ then does: the whole log-likelihood by one jitted
  numpyro ``log_likelihood`` call, ``az.from_dict`` and ``az.loo(idata, pointwise=True)``.

Rows: 20,000 for both, 200,000 for ``chunked`` and ``chunked1`` only by default (``full`` there
needs the 6.4 GB matrix and ArviZ's copies of it, several times the memory of this 2-core, 23 GB
machine shared with other jobs: ``--full-200k`` runs it anyway). The draws are exact draws of the
conjugate posterior (Normal prior, σ at its value plus a little noise, four "chains"): neither
method's cost depends on where the draws come from. The elpd of both methods at 20,000 rows is
printed side by side.

    python benchmarks/bench_loo.py            # 20k chunked + full, 200k chunked and chunked1 (3 minutes)
    python benchmarks/bench_loo.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np

P, CHAINS, DRAWS = 10, 4, 1000


def _data(n: int, seed: int = 0):
    """X (n, P), y, and draws of (coef, intercept, sigma) shaped (CHAINS, DRAWS, ...)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, P))
    y = 1.0 + X @ np.linspace(-1, 1, P) + rng.normal(size=n)
    design = np.column_stack([X, np.ones(n)])
    precision = design.T @ design + np.diag([1.0] * P + [0.0])
    mean = np.linalg.solve(precision, design.T @ y)
    chol = np.linalg.cholesky(np.linalg.inv(precision))
    theta = mean + rng.normal(size=(CHAINS, DRAWS, P + 1)) @ chol.T
    sigma = np.sqrt(np.mean((y - design @ mean) ** 2)) * (
        1 + rng.normal(size=(CHAINS, DRAWS)) / np.sqrt(2 * n)
    )
    return X, y, {"coef": theta[..., :P], "intercept": theta[..., P], "sigma": sigma}


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _child(mode: str, n: int) -> dict:
    """One measurement in this process; returns its figures."""
    warnings.simplefilter("ignore")
    import arviz as az
    import jax
    import numpyro.distributions as dist
    from numpyro.infer import log_likelihood

    from bayesreg.loo import CHUNK_BYTES, chunk_rows, pointwise_loo
    from bayesreg.models import linear_regression
    from bayesreg.priors import prior_from_penalty

    X, y, draws = _data(n)
    kwargs = {"prior": prior_from_penalty("gaussian", 1.0, convention="book"), "sigma": dist.Exponential(1.0)}
    jax.numpy.zeros(1).block_until_ready()  # the backend up before the baseline
    baseline = _rss_mb()
    start, cpu_start = time.perf_counter(), time.process_time()
    if mode.startswith("chunked"):
        threads = 1 if mode == "chunked1" else None
        result = pointwise_loo(linear_regression, draws, X, y, threads=threads, **kwargs)
        elpd = result.elpd_data()
        extra = {"rows_per_block": chunk_rows(CHAINS * DRAWS), "chunk_mb": CHUNK_BYTES / 2**20}
    else:
        with jax.enable_x64(True):
            flat = {k: v.reshape((-1, *v.shape[2:])) for k, v in draws.items()}
            loglik = jax.jit(lambda d: log_likelihood(linear_regression, d, X, y, **kwargs)["y"])(flat)
            loglik = np.asarray(loglik).reshape(CHAINS, DRAWS, n)
        computed = time.perf_counter()
        idata = az.from_dict(posterior=draws, log_likelihood={"y": loglik}, dims={"y": ["obs"]})
        elpd = az.loo(idata, pointwise=True)
        extra = {"loglik_s": computed - start, "matrix_mb": loglik.nbytes / 2**20}
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "mode": mode,
        "rows": n,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak,
        "baseline_rss_mb": baseline,
        "elpd_loo": float(elpd["elpd_loo"]),
        "p_loo": float(elpd["p_loo"]),
        "se": float(elpd["se"]),
        "max_k": float(np.max(elpd["pareto_k"])),
        **extra,
    }


def _run(mode: str, n: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(n)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", nargs=2, metavar=("MODE", "ROWS"), help=argparse.SUPPRESS)
    parser.add_argument("--full-200k", action="store_true", help="also az.loo on the full 200,000-row matrix")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child[0], int(args.child[1]))))
        return
    runs = [("chunked", 20_000), ("full", 20_000), ("chunked", 200_000), ("chunked1", 200_000)]
    if args.full_200k:
        runs.append(("full", 200_000))
    results = []
    header = (
        "method",
        "rows",
        "wall s",
        "CPU s",
        "µs/row",
        "CPU µs/row",
        "peak RSS MB",
        "(baseline)",
        "elpd_loo",
    )
    print("{:8} {:>8} {:>7} {:>7} {:>7} {:>10} {:>12} {:>11} {:>16}".format(*header))
    for mode, n in runs:
        r = _run(mode, n)
        results.append(r)
        print(
            f"{mode:8} {n:8d} {r['seconds']:7.1f} {r['cpu_seconds']:7.1f} {1e6 * r['seconds'] / n:7.1f} "
            f"{1e6 * r['cpu_seconds'] / n:10.1f} {r['peak_rss_mb']:12.0f} {r['baseline_rss_mb']:11.0f} "
            f"{r['elpd_loo']:16.8f}"
        )
    small = {r["mode"]: r for r in results if r["rows"] == 20_000}
    difference = abs(small["chunked"]["elpd_loo"] - small["full"]["elpd_loo"])
    print(f"20,000 rows: |elpd_loo chunked − full| = {difference:.2e}")
    full = small["full"]
    growth = full["peak_rss_mb"] - full["baseline_rss_mb"]
    print(
        f"full matrix at 20,000 rows: {full['matrix_mb']:.0f} MB, peak above baseline {growth:.0f} MB; "
        f"extrapolated to 200,000 rows (linear in n): {10 * growth / 1024:.1f} GB above baseline"
    )
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(results, stream, indent=2)


if __name__ == "__main__":
    main()
