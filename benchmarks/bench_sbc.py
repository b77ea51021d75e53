"""Simulation-based calibration at scale: 1000 replicates for each model of the test suite.

The models and settings are those of ``tests/test_calibration.py`` (which runs fewer replicates):

* ``linear-gaussian``: linear regression, n = 20, p = 3 (standard normal design, seed 0), weights
  ~ N(0, 1), intercept ~ N(0, 1), σ = 1;
* ``linear-laplace``: the same with weights ~ Laplace(0, 1);
* ``logistic-laplace``: logistic regression, n = 40, p = 3 (seed 1), weights ~ Laplace(0, 1),
  intercept ~ N(0, 1);
* ``wrong-sd-0.5`` and ``wrong-sd-0.8``: data simulated from ``linear-gaussian`` with likelihood sd
  0.5 (0.8), fitted assuming sd 1; SBC should reject these;
* ``poisson-laplace-offset``, ``negative-binomial`` and ``student-t``: the count and robust models of
  ``tests/test_glm_sbc.py``, n = 30, p = 3 (seed 0): Poisson with an offset (0.3 × standard normal,
  seed 5) and weights ~ Laplace(0, 0.5); NB2 with weights ~ N(0, 1) and dispersion ~ Gamma(2, 4);
  Student-t with weights ~ N(0, 1), ν ~ Gamma(4, 0.5), σ ~ HalfNormal(1); intercepts ~ N(0, 1);
* ``wrong-nb-as-poisson``: NB2 counts with dispersion 1 fitted with dispersion 1e-8 (Poisson).

NUTS per replicate: 1 chain, 200 warmup steps, 99 draws kept one step in 4 (ranks 0 … 99, ten bins
of ten). Replicates run on the engine's chains driver (one chain per replicate, its simulated targets
its own argument: one after another on a CPU) in batches of ``--batch-size``; all batches of a
model share its compiled programs. Printed per case: the chi-square p-value of rank uniformity per
parameter, the Bonferroni-corrected p-value, divergences, wall and CPU time of the whole
``sbc_ranks`` call (simulation, compilation and sampling; the XLA compile time is shown
separately, from ``jax.monitoring`` events).

Run ``python benchmarks/bench_sbc.py [--replicates 1000] [--batch-size 250] [--cases a,b] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import jax
import jax.monitoring
import numpy as np
import numpyro
import numpyro.distributions as dist

from bayesreg.calibration import rank_uniformity_pvalue, rank_uniformity_pvalues, sbc_ranks
from bayesreg.models import (
    linear_regression,
    logistic_regression,
    negative_binomial_regression,
    poisson_regression,
    student_t_regression,
)
from bayesreg.priors import Prior

NUM_WARMUP, NUM_DRAWS, THIN, NUM_BINS = 200, 99, 4, 10


def cases() -> list[tuple[str, object, np.ndarray, dict, dict | None]]:
    """(name, model, X, model_kwargs, simulate_kwargs) for every benchmarked case."""
    X_lin = np.random.default_rng(0).standard_normal((20, 3))
    X_log = np.random.default_rng(1).standard_normal((40, 3))
    intercept = dist.Normal(0.0, 1.0)
    gaussian = {"prior": Prior("gaussian", 0.0, 1.0), "sigma": 1.0, "intercept_prior": intercept}
    laplace = {"prior": Prior("laplace", 1.0), "sigma": 1.0, "intercept_prior": intercept}
    logistic = {"prior": Prior("laplace", 1.0), "intercept_prior": intercept}
    X_glm = np.random.default_rng(0).standard_normal((30, 3))
    offset = 0.3 * np.random.default_rng(5).standard_normal(30)
    glm = {"prior": Prior("gaussian", 0.0, 1.0), "intercept_prior": intercept}
    poisson = {"prior": Prior("laplace", 2.0), "intercept_prior": intercept, "offset": offset}
    nb = {**glm, "dispersion": dist.Gamma(2.0, 4.0)}
    student = {**glm, "df": dist.Gamma(4.0, 0.5), "sigma": dist.HalfNormal(1.0)}
    return [
        ("linear-gaussian", linear_regression, X_lin, gaussian, None),
        ("linear-laplace", linear_regression, X_lin, laplace, None),
        ("logistic-laplace", logistic_regression, X_log, logistic, None),
        ("wrong-sd-0.5", linear_regression, X_lin, gaussian, {"sigma": 0.5}),
        ("wrong-sd-0.8", linear_regression, X_lin, gaussian, {"sigma": 0.8}),
        ("poisson-laplace-offset", poisson_regression, X_glm, poisson, None),
        ("negative-binomial", negative_binomial_regression, X_glm, nb, None),
        ("student-t", student_t_regression, X_glm, student, None),
        (
            "wrong-nb-as-poisson",
            negative_binomial_regression,
            X_glm,
            {**glm, "dispersion": 1e-8},
            {**glm, "dispersion": 1.0},
        ),
    ]


_COMPILE_EVENTS: dict[str, float] = {}


def _listen(event: str, duration: float, **_) -> None:
    if "compile" in event or "tracing" in event or "lowering" in event:
        _COMPILE_EVENTS[event] = _COMPILE_EVENTS.get(event, 0.0) + duration


def run_case(name, model, X, kwargs, simulate, *, replicates, batch_size, seed) -> dict:
    _COMPILE_EVENTS.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    result = sbc_ranks(
        model,
        X,
        num_replicates=replicates,
        num_warmup=NUM_WARMUP,
        num_draws=NUM_DRAWS,
        thin=THIN,
        seed=seed,
        model_kwargs=kwargs,
        simulate_kwargs=simulate,
        batch_size=batch_size,
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pvalues = rank_uniformity_pvalues(result.ranks, NUM_DRAWS, NUM_BINS)
    return {
        "case": name,
        "replicates": replicates,
        "parameters": list(result.names),
        "pvalues": [float(p) for p in pvalues],
        "bonferroni_pvalue": rank_uniformity_pvalue(result.ranks, NUM_DRAWS, NUM_BINS),
        "divergences": int(result.divergences.sum()),
        "wall_s": wall,
        "cpu_s": cpu,
        "jax_compile_events_s": dict(_COMPILE_EVENTS),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", default=None, help="comma-separated case names (default: all)")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    info = {
        "jax": jax.__version__,
        "numpyro": numpyro.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
    }
    print(f"SBC: {args.replicates} replicates per case, batches of {args.batch_size}; {info}")
    jax.monitoring.register_event_duration_secs_listener(_listen)
    rows = []
    chosen = None if args.cases is None else set(args.cases.split(","))
    for case in cases():
        if chosen is not None and case[0] not in chosen:
            continue
        row = run_case(*case, replicates=args.replicates, batch_size=args.batch_size, seed=args.seed)
        rows.append(row)
        compile_s = sum(v for k, v in row["jax_compile_events_s"].items() if "backend_compile" in k)
        pv = ", ".join(f"{n}={p:.3g}" for n, p in zip(row["parameters"], row["pvalues"], strict=True))
        print(
            f"{row['case']:<22} Bonferroni p={row['bonferroni_pvalue']:.3g}  ({pv})  "
            f"divergences={row['divergences']}  wall={row['wall_s']:.1f}s cpu={row['cpu_s']:.1f}s "
            f"(of which XLA compile {compile_s:.1f}s)",
            flush=True,
        )
    info["load_average_at_end"] = os.getloadavg()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "results": rows}, f, indent=2)


if __name__ == "__main__":
    main()
