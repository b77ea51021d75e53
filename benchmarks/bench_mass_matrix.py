"""Dense or diagonal mass matrix for a model evaluated per row: bulk ESS per second of a logistic fit.

For each number of columns p (and rows n), `bayesreg.fit_posterior` on a logistic regression with a
Normal(0, 1) prior (``LogisticRegression(C=1)``'s penalty) over AR(1)-correlated columns
(``benchmarks/ar1_data.py``, ρ given, the labels drawn from the model), 4 chains × (1000 + 1000),
with ``mass_matrix="dense"`` and ``"diagonal"``. Each setting runs twice: the first call (seed 0)
compiles, the second (seed 1) is timed. One JSON line per timed fit: min bulk ESS over ``coef`` and
``intercept`` (ArviZ), max R-hat, divergences, mean leapfrog steps per draw, the wall time of the fit
(MAP and chains, compiled), the ESS per second, the seconds per leapfrog step (wall over all steps of
the 4 chains, warmup included), ``d²/(elements of X and y)`` (what `bayesreg.engine.dense_mass`
compares with `~bayesreg.engine.DENSE_DATA_FRACTION`), and the 1-minute load average.

Run ``python benchmarks/bench_mass_matrix.py [P] [N] [RHO]``, e.g.
``python benchmarks/bench_mass_matrix.py 20,50,100,200 1000 0.5`` (the default).
"""

import json
import os
import sys
import time
import warnings

from bayesreg.engine import SMALL_LOOPS_XLA_FLAG

os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {SMALL_LOOPS_XLA_FLAG}"

import arviz as az
import numpy as np
from ar1_data import make_data

from bayesreg.models import logistic_regression
from bayesreg.priors import prior_from_penalty
from bayesreg.sampling import fit_posterior


def logistic_data(n: int, p: int, rho: float):
    """AR(1) columns, labels drawn from the logistic model with the sparse truth of `make_data`."""
    X, _, coef = make_data(n, p, rho)
    rng = np.random.default_rng(1)
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-(0.5 + X @ coef)))).astype(float)
    return X, y


def main(argv) -> None:
    warnings.simplefilter("ignore")
    ps = [int(p) for p in argv[0].split(",")] if argv else [20, 50, 100, 200]
    n = int(argv[1]) if len(argv) > 1 else 1000
    rho = float(argv[2]) if len(argv) > 2 else 0.5
    prior = prior_from_penalty("gaussian", 1.0, family="bernoulli")
    for p in ps:
        X, y = logistic_data(n, p, rho)
        for mass in ("dense", "diagonal"):
            for seed in (0, 1):
                start = time.perf_counter()
                fit = fit_posterior(
                    logistic_regression, X, y, prior=prior, mass_matrix=mass, seed=seed, progress_bar=False
                )
                wall = time.perf_counter() - start
            sites = ["coef", "intercept"]
            ess = az.ess(fit.idata, var_names=sites, method="bulk")
            rhat = az.rhat(fit.idata, var_names=sites)
            stats = fit.idata.sample_stats
            # the leapfrog steps of the kept draws; warmup's are assumed as many per transition
            steps = float(stats["n_steps"].mean())
            total_steps = steps * stats.sizes["chain"] * 2 * stats.sizes["draw"]
            min_ess = min(float(ess[k].min()) for k in sites)
            row = {
                "n": n,
                "p": p,
                "rho": rho,
                "mass": fit.mass_matrix,
                "ess": round(min_ess),
                "rhat": round(max(float(rhat[k].max()) for k in sites), 4),
                "div": int(stats["diverging"].sum()),
                "steps_per_draw": round(steps, 1),
                "wall": round(wall, 2),
                "ess_per_s": round(min_ess / wall),
                "us_per_step": round(1e6 * wall / total_steps, 1),
                "d2_over_data": round((p + 1) ** 2 / (n * p + n), 3),
                "load": round(os.getloadavg()[0], 1),
            }
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
