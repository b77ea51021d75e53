"""Fixed-seed draws of `sample_posterior` are bitwise those pinned in ``tests/data``.

``tests/data/draws_c409ca2.npz`` holds draws written by this file's ``__main__`` at commit c409ca2
(the collapsed sampler), on this project's CI machine kind (x86-64 CPU, float64). Its runs
``lasso_direct``, ``lasso_mixture``, ``ridge_fixed_sigma`` and ``logistic`` are bitwise those pinned
at commit 89d67a9 (before the compiled machinery moved into `bayesreg.engine`); ``lasso_collapsed``
(the default for that model since c409ca2) was added then. A reorganisation of the engine must not
change a single bit of them: the same model, settings, seed and data give the same draws. Rewrite
the file only for a deliberate change of the sampler (and say so in the commit).

Those four runs sample ``coef`` as it is (``precondition=False``): the default since branch
``precond`` samples the weights of unit-scale columns (`bayesreg.sampling.Preconditioning`), whose
draws differ. The default runs (``*_preconditioned``) are pinned in
``tests/data/draws_preconditioned.npz``, written by ``__main__`` with ``--write-preconditioned``.
"""

import os
import sys
from pathlib import Path

import numpy as np
import numpyro.distributions as dist
import pytest

from bayesreg import prior_from_penalty, sample_posterior
from bayesreg.engine import SMALL_LOOPS_XLA_FLAG
from bayesreg.models import SufficientStats, linear_regression, linear_regression_stats, logistic_regression

REFERENCE = Path(__file__).parent / "data" / "draws_c409ca2.npz"
REFERENCE_PRECONDITIONED = Path(__file__).parent / "data" / "draws_preconditioned.npz"
PRECONDITIONED = ("lasso_direct", "lasso_mixture", "ridge_fixed_sigma", "logistic")
SETTINGS = {"num_warmup": 100, "num_samples": 100, "num_chains": 2, "seed": 3, "progress_bar": False}


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)) * np.array([1.0, 10.0, 0.1, 1.0])
    y = 1.0 + X @ np.array([0.5, 0.0, 3.0, -1.0]) + rng.normal(size=60)
    return X, y


def _runs() -> dict[str, dict]:
    """Each run's posterior draws by site, keyed by run name."""
    X, y = _data()
    n = X.shape[0]
    stats = SufficientStats.from_data(X, y)
    sigma = dist.Exponential(1.0 / np.std(y))
    lasso = prior_from_penalty("laplace", 0.1, n_samples=n)
    ridge = prior_from_penalty("gaussian", 5.0, n_samples=n)
    labels = (y > np.median(y)).astype(float)

    def lasso_stats(parametrisation, **settings):
        return sample_posterior(
            linear_regression_stats,
            stats,
            observed=(linear_regression, X, y),
            prior=lasso,
            sigma=sigma,
            laplace_parametrisation=parametrisation,
            **settings,
            **SETTINGS,
        )

    def direct_runs(**settings):
        return {
            "lasso_direct": lasso_stats("direct", **settings),
            "lasso_mixture": lasso_stats("mixture", **settings),
            "ridge_fixed_sigma": sample_posterior(
                linear_regression, X, y, prior=ridge, sigma=1.3, **settings, **SETTINGS
            ),
            "logistic": sample_posterior(
                logistic_regression,
                X,
                labels,
                prior=prior_from_penalty("gaussian", 1.0, family="bernoulli"),
                **settings,
                **SETTINGS,
            ),
        }

    runs = {
        **direct_runs(precondition=False),
        "lasso_collapsed": lasso_stats("collapsed"),
        **{f"{name}_preconditioned": idata for name, idata in direct_runs().items()},
    }
    return {
        name: {site: idata.posterior[site].to_numpy() for site in idata.posterior.data_vars}
        for name, idata in runs.items()
    }


@pytest.fixture(scope="module")
def runs():
    return _runs()


@pytest.mark.parametrize(
    "name",
    [
        "lasso_direct",
        "lasso_mixture",
        "lasso_collapsed",
        "ridge_fixed_sigma",
        "logistic",
        *(f"{name}_preconditioned" for name in PRECONDITIONED),
    ],
)
def test_draws_are_bitwise_unchanged(runs, name):
    reference = REFERENCE_PRECONDITIONED if name.endswith("_preconditioned") else REFERENCE
    with np.load(reference) as saved:
        expected = {key.split("/", 1)[1]: saved[key] for key in saved.files if key.startswith(f"{name}/")}
    assert expected, f"no reference draws for {name}"
    assert sorted(runs[name]) == sorted(expected)
    for site, draws in runs[name].items():
        np.testing.assert_array_equal(draws, expected[site], err_msg=f"{name}: {site}")


if __name__ == "__main__" and sys.argv[1:] in (["--write"], ["--write-preconditioned"]):
    # compiled as the suite compiles (tests/conftest.py): the mixture's draws depend on it
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {SMALL_LOOPS_XLA_FLAG}"
    preconditioned = sys.argv[1] == "--write-preconditioned"
    flat = {
        f"{name}/{site}": v
        for name, sites in _runs().items()
        if name.endswith("_preconditioned") == preconditioned
        for site, v in sites.items()
    }
    np.savez_compressed(REFERENCE_PRECONDITIONED if preconditioned else REFERENCE, **flat)
