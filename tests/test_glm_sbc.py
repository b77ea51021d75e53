"""Simulation-based calibration (Talts et al. 2018) of NUTS on the Poisson, negative binomial and
Student-t regressions, as tests/test_calibration.py does for the linear and logistic models.

Each family draws ``REPLICATES`` data sets from its prior predictive (proper priors on every site)
and runs NUTS on all of them in one call (`bayesreg.calibration.sbc_ranks`: one chain per replicate,
200 warmup steps, 99 draws kept one in 4); the ranks of the true parameters are tested for
uniformity by a chi-square test on 10 bins, Bonferroni over the parameters, at the 1% level:

- Poisson with a log-exposure offset, Laplace(0, 0.5) weights;
- negative binomial with its dispersion sampled (α ~ Gamma(2, 4));
- Student-t with ν and σ sampled (ν ~ Gamma(4, 0.5), σ ~ HalfNormal(1)).

A model fitted with the wrong likelihood (the negative binomial's counts fitted as Poisson: a
posterior too narrow) must be rejected, which shows the check has power at this size. That case runs
in float64: its fitted model is the negative binomial at dispersion 1e-8 (concentration r = 1e8),
whose log-density holds ``r·(log r − log(r + μ))``, a difference of two numbers near 18.4 times 1e8;
in float32 that term is off by up to ~200 nats, NUTS adapted to that noise (every draw of every chain
at the tree-depth limit, 1,023 leapfrog steps) and the ranks measured the noise, not the misfit.
``benchmarks/bench_sbc.py`` runs these cases with more replicates.
"""

import numpy as np
import numpyro.distributions as dist
import pytest

from bayesreg.calibration import rank_uniformity_pvalue, sbc_ranks
from bayesreg.models import negative_binomial_regression, poisson_regression, student_t_regression
from bayesreg.priors import Prior

REPLICATES = 200
POWER_REPLICATES = 100  # enough for a posterior this far off (benchmarks/README.md)
NUM_DRAWS, NUM_BINS = 99, 10
LEVEL = 0.01
SETTINGS = {"num_warmup": 200, "num_draws": NUM_DRAWS, "thin": 4, "num_replicates": REPLICATES}
INTERCEPT = dist.Normal(0.0, 1.0)
GAUSSIAN = Prior("gaussian", 0.0, 1.0)


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).standard_normal((30, 3))


@pytest.fixture(scope="module")
def offset():
    return 0.3 * np.random.default_rng(5).standard_normal(30)


POISSON = {"prior": Prior("laplace", 2.0), "intercept_prior": INTERCEPT}
NEGATIVE_BINOMIAL = {"prior": GAUSSIAN, "intercept_prior": INTERCEPT, "dispersion": dist.Gamma(2.0, 4.0)}
STUDENT_T = {
    "prior": GAUSSIAN,
    "intercept_prior": INTERCEPT,
    "df": dist.Gamma(4.0, 0.5),
    "sigma": dist.HalfNormal(1.0),
}


@pytest.mark.parametrize(
    ("model", "kwargs", "names"),
    [
        (poisson_regression, POISSON, ()),
        (negative_binomial_regression, NEGATIVE_BINOMIAL, ("dispersion",)),
        (student_t_regression, STUDENT_T, ("df", "sigma")),
    ],
    ids=["poisson", "negative_binomial", "student_t"],
)
def test_ranks_are_uniform(model, kwargs, names, X, offset):
    if model is poisson_regression:
        kwargs = {**kwargs, "offset": offset}
    result = sbc_ranks(model, X, seed=0, model_kwargs=kwargs, **SETTINGS)
    assert result.ranks.shape == (REPLICATES, 4 + len(names))
    assert set(result.names) == {"coef[0]", "coef[1]", "coef[2]", "intercept", *names}
    p = rank_uniformity_pvalue(result.ranks, NUM_DRAWS, NUM_BINS)
    assert p >= LEVEL, f"{model.__name__}: rank uniformity rejected, Bonferroni p = {p:.2g}"


def test_overdispersed_counts_fitted_as_poisson_are_rejected(X, x64):
    """Counts simulated with NB dispersion 1 fitted as Poisson: the posterior is too narrow
    (float64, see the module's docstring)."""
    simulate = {"prior": GAUSSIAN, "intercept_prior": INTERCEPT, "dispersion": 1.0}
    wrong = sbc_ranks(
        negative_binomial_regression,
        X,
        seed=0,
        model_kwargs={**simulate, "dispersion": 1e-8},  # the Poisson limit of the same program
        simulate_kwargs=simulate,
        **{**SETTINGS, "num_replicates": POWER_REPLICATES},
    )
    p = rank_uniformity_pvalue(wrong.ranks, NUM_DRAWS, NUM_BINS)
    assert p < 1e-6, f"counts with dispersion 1 fitted as Poisson were not detected: p = {p:.2g}"
