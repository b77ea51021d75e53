"""Warmup length of the MAP-seeded, preconditioned chains: does a shorter warmup keep the ESS?

For each data set, warmup length and seed, `bayesreg.fit_posterior` with every other setting at its
default (4 chains × 1000 draws, ``laplace_parametrisation="auto"`` unless stated) prints one JSON line:
what the chains sampled (``param``: collapsed, direct, mixture), the mass matrix, the min bulk ESS and
max R-hat over ``coef``, ``intercept`` and ``sigma`` (ArviZ), the divergences, the wall time of the fit
(the first call of a warmup length compiles: ``num_warmup`` is a static setting of the chains'
programs) and the 1-minute load average.

Data sets: scikit-learn's diabetes (as loaded, Lasso α = 0.1, σ sampled; and ElasticNet α = 0.1,
``l1_ratio`` 0.5, which has no collapsed form: direct, preconditioned); statsmodels' star98
unscaled (target PERMINTE, the other 21 columns in their own units; Lasso α = 1, σ sampled: "auto"
samples the collapsed form there, "direct" the preconditioned density); star98 with the binary target
PERMINTE > median (logistic, Laplace prior, C = 1); scikit-learn's breast cancer, 30 raw columns
(logistic, Laplace prior, C = 1).

Run ``python benchmarks/bench_warmup.py [CASES] [WARMUPS] [SEEDS]``, e.g.
``python benchmarks/bench_warmup.py "breast cancer" 1000,500,300 0,1`` (comma-separated; default: every
case, warmups 1000, 500, 300, seeds 0, 1). Needs statsmodels.
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
from sklearn.datasets import load_breast_cancer, load_diabetes
from statsmodels.datasets import star98

from bayesreg.models import (
    SufficientStats,
    linear_regression,
    linear_regression_stats,
    logistic_regression,
)
from bayesreg.priors import noise_prior, prior_from_penalty
from bayesreg.sampling import fit_posterior


def gaussian(X, y, alpha, parametrisation="auto", kind="laplace"):
    prior = prior_from_penalty(kind, alpha, n_samples=len(y))
    stats = SufficientStats.from_data(X, y)

    def fit(**settings):
        return fit_posterior(
            linear_regression_stats,
            stats,
            observed=(linear_regression, X, y),
            prior=prior,
            sigma=noise_prior(y),
            laplace_parametrisation=parametrisation,
            progress_bar=False,
            **settings,
        )

    return fit


def logistic(X, y, C=1.0):
    prior = prior_from_penalty("laplace", 1.0 / C, family="bernoulli")

    def fit(**settings):
        return fit_posterior(logistic_regression, X, y, prior=prior, progress_bar=False, **settings)

    return fit


def cases() -> dict:
    X_diabetes, y_diabetes = load_diabetes(return_X_y=True)
    data = star98.load_pandas().data
    X_star, y_star = data.drop(columns=["PERMINTE"]).to_numpy(float), data["PERMINTE"].to_numpy(float)
    X_cancer, y_cancer = load_breast_cancer(return_X_y=True)
    return {
        "diabetes lasso": gaussian(X_diabetes, y_diabetes, 0.1),
        "diabetes elastic net": gaussian(X_diabetes, y_diabetes, 0.1, kind="elasticnet"),
        "star98 gaussian (auto)": gaussian(X_star, y_star, 1.0),
        "star98 gaussian (direct)": gaussian(X_star, y_star, 1.0, "direct"),
        "star98 elastic net": gaussian(X_star, y_star, 1.0, kind="elasticnet"),
        "star98 binary": logistic(X_star, (y_star > np.median(y_star)).astype(float)),
        "breast cancer": logistic(X_cancer, y_cancer.astype(float)),
    }


def main(argv) -> None:
    warnings.simplefilter("ignore")
    fits = cases()
    names = argv[0].split(",") if argv else list(fits)
    warmups = [int(w) for w in argv[1].split(",")] if len(argv) > 1 else [1000, 500, 300]
    seeds = [int(s) for s in argv[2].split(",")] if len(argv) > 2 else [0, 1]
    for name in names:
        for warmup in warmups:
            for seed in seeds:
                start = time.perf_counter()
                fit = fits[name](num_warmup=warmup, seed=seed)
                wall = time.perf_counter() - start
                sites = [k for k in ("coef", "intercept", "sigma") if k in fit.idata.posterior]
                ess = az.ess(fit.idata, var_names=sites, method="bulk")
                rhat = az.rhat(fit.idata, var_names=sites)
                row = {
                    "case": name,
                    "warmup": warmup,
                    "seed": seed,
                    "param": fit.parametrisation,
                    "mass": fit.mass_matrix,
                    "ess": round(min(float(ess[k].min()) for k in sites)),
                    "rhat": round(max(float(rhat[k].max()) for k in sites), 4),
                    "div": int(fit.idata.sample_stats["diverging"].sum()),
                    "wall": round(wall, 1),
                    "load": round(os.getloadavg()[0], 1),
                }
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
