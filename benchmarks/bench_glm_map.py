"""Issue 15: the exact MAP of the Poisson model with an L1 prior against glum, as users call each.

Problem: n = 100,000 rows, p = 100 AR(1) features (corr ρ^|i−j|, ρ = 0.5, `ar1_data.make_data`), the
counts ``y ~ Poisson(exp(0.5 + X w/4))`` with ``w`` that data set's weights, and the L1 penalty at
``α = 0.05 α_max`` in glum's convention (``(1/2n)·deviance + α‖w‖₁``). Timed, from NumPy arrays to
coefficients:

* glum: ``GeneralizedLinearRegressor(family="poisson", alpha, l1_ratio=1).fit(X, y)`` at its default
  ``gradient_tol`` and at 1e-8 (the tests' reference setting);
* bayesreg: ``map_estimate(poisson_regression, X, y, prior=prior_from_penalty("laplace", alpha,
  convention="glum", family="poisson", n_samples=n))``, its first call in the process and the median
  of ``--repeats`` further calls. For this model and prior map_estimate runs the host proximal
  Newton solver of `bayesreg.engine.glm` (nothing compiled), so the first call differs from the
  others only by warm caches.

The three are timed in turn, A B C A B C ..., so that load from other processes hits each alike; the
load average before and after is printed with the times.

Each answer's distance to the other and its optimality residual (the largest minimum-norm
subgradient entry of ``NLL/n + α‖w‖₁``) are reported, so that the times compare answers of known
accuracy. Run ``python benchmarks/bench_glm_map.py [--n N] [--p P] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import numpy as np
from ar1_data import make_data  # benchmarks/ is on sys.path when a script runs


def residual(X, y, coef, intercept, alpha):
    """Largest minimum-norm subgradient entry of ``mean NLL + α‖w‖₁`` (the intercept's gradient too)."""
    mean = np.exp(intercept + X @ coef)
    grad = X.T @ (mean - y) / len(y)
    at_zero = np.maximum(np.abs(grad) - alpha, 0.0)
    entries = np.where(coef == 0, at_zero, np.abs(grad + alpha * np.sign(coef)))
    return max(entries.max(), abs(np.mean(mean - y)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--p", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--compiled",
        action="store_true",
        help="also time the compiled solver (bayesreg.engine.map.solve) map_estimate ran before the host one",
    )
    args = parser.parse_args()

    from glum import GeneralizedLinearRegressor

    from bayesreg.engine import map_estimate
    from bayesreg.models import poisson_regression
    from bayesreg.priors import prior_from_penalty

    X, _, w = make_data(args.n, args.p, 0.5, seed=0)
    rng = np.random.default_rng(1)
    y = rng.poisson(np.exp(0.5 + X @ w / 4)).astype(float)
    X = np.asfortranarray(X)  # glum's irls-cd wants Fortran order (no copy in its fit)
    alpha = 0.05 * np.max(np.abs(X.T @ (y - y.mean()))) / args.n
    prior = prior_from_penalty("laplace", alpha, convention="glum", family="poisson", n_samples=args.n)

    def glum_fit(tol):
        est = GeneralizedLinearRegressor(family="poisson", alpha=alpha, l1_ratio=1.0, gradient_tol=tol)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        return est.coef_, float(est.intercept_)

    def bayesreg_fit():
        result = map_estimate(poisson_regression, X, y, prior=prior)
        return result.params["coef"], float(result.params["intercept"])

    def compiled_fit():  # SVI with ProximalNewton, compiled once (the first call is not timed)
        import jax

        from bayesreg.engine import as_arrays, split_static
        from bayesreg.engine.map import solve

        with jax.enable_x64(True):
            dynamic, static = split_static({"prior": prior.smooth_part()})
            data, dynamic, l1, tol = as_arrays(((X, y), dynamic, prior.l1, 1e-10))
            values, _, _ = solve(
                poisson_regression, static, data, dynamic, l1, {}, tol, has_l1=True, max_steps=200
            )
            values = jax.device_get(values)
        return np.asarray(values["coef"]), float(values["intercept"])

    load_before = os.getloadavg()
    start = time.perf_counter()
    first = bayesreg_fit()
    first_call = time.perf_counter() - start
    rows = {"bayesreg map_estimate (first call)": (first_call, first)}
    fits = {
        "glum (default tol)": lambda: glum_fit(None),
        "glum (gradient_tol=1e-8)": lambda: glum_fit(1e-8),
        "bayesreg map_estimate (warm)": bayesreg_fit,
    }
    if args.compiled:
        compiled_fit()  # compiled here, outside the timings
        fits["compiled solve (warm)"] = compiled_fit
    timings = {name: [] for name in fits}
    answers = {}
    for _ in range(args.repeats):  # interleaved, so that load from other processes hits each alike
        for name, fit in fits.items():
            start = time.perf_counter()
            answers[name] = fit()
            timings[name].append(time.perf_counter() - start)
    rows.update({name: (statistics.median(t), answers[name]) for name, t in timings.items()})
    load_after = os.getloadavg()
    reference = answers["glum (gradient_tol=1e-8)"]
    print(f"Poisson L1, n = {args.n}, p = {args.p}, alpha = {alpha:.4g} (glum convention)")
    print(f"{'method':34s} {'seconds':>8s} {'zeros':>6s} {'max |Δ| vs glum 1e-8':>22s} {'residual':>10s}")
    for name, (seconds, (coef, intercept)) in rows.items():
        gap = np.max(np.abs(np.append(coef - reference[0], intercept - reference[1])))
        res = residual(X, y, coef, intercept, alpha)
        print(f"{name:34s} {seconds:8.3f} {int(np.sum(coef == 0)):6d} {gap:22.2e} {res:10.2e}")
    ratio = rows["bayesreg map_estimate (warm)"][0] / rows["glum (gradient_tol=1e-8)"][0]
    print(f"ratio bayesreg warm / glum 1e-8: {ratio:.2f}")
    ratio_default = rows["bayesreg map_estimate (warm)"][0] / rows["glum (default tol)"][0]
    print(f"ratio bayesreg warm / glum default: {ratio_default:.2f}")
    for name, t in timings.items():
        print(f"{name:34s} each: " + " ".join(f"{s:.2f}" for s in t))
    print(f"load average (1, 5, 15 min) before {load_before}, after {load_after}")


if __name__ == "__main__":
    main()
