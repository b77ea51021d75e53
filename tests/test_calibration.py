"""Simulation-based calibration (Talts et al. 2018) of NUTS on the three model/prior pairs.

Each case draws ``REPLICATES`` data sets from the prior predictive and runs NUTS on all of them in one
vectorised call (`bayesreg.calibration.sbc_ranks`); the ranks of the true parameters among 99
thinned posterior draws are tested for uniformity with a chi-square test on 10 bins, Bonferroni over
the parameters, at the 1% level. A deliberately wrong model (data simulated with likelihood sd 0.5,
fitted with sd 1, and the reverse) must be rejected, which shows the check has power at this size.

Measured with the fixed seeds below (200 replicates): Bonferroni p = 0.13 (linear, Gaussian prior),
0.27 (linear, Laplace prior), 0.14 (logistic, Laplace prior); the wrong models 3e-13 (posterior too
wide: 3.5% of ranks in the two outer bins instead of 20%) and 2e-26 (too narrow: 52.6%).
``benchmarks/bench_sbc.py`` runs 1000 replicates of each.
"""

import numpy as np
import numpyro.distributions as dist
import pytest
from scipy import stats

from bayesreg.calibration import SBCResult, rank_uniformity_pvalue, rank_uniformity_pvalues, sbc_ranks
from bayesreg.models import linear_regression, logistic_regression
from bayesreg.priors import Prior
from bayesreg.shrinkage import Horseshoe

REPLICATES = 200
NUM_WARMUP, NUM_DRAWS, THIN, NUM_BINS = 200, 99, 4, 10
LEVEL = 0.01
SETTINGS = {"num_warmup": NUM_WARMUP, "num_draws": NUM_DRAWS, "thin": THIN, "num_replicates": REPLICATES}
INTERCEPT = dist.Normal(0.0, 1.0)
LINEAR_GAUSSIAN = {"prior": Prior("gaussian", 0.0, 1.0), "sigma": 1.0, "intercept_prior": INTERCEPT}


@pytest.fixture(scope="module")
def X_linear():
    return np.random.default_rng(0).standard_normal((20, 3))


@pytest.fixture(scope="module")
def linear_gaussian(X_linear):
    return sbc_ranks(linear_regression, X_linear, seed=0, model_kwargs=LINEAR_GAUSSIAN, **SETTINGS)


@pytest.fixture(scope="module")
def linear_laplace(X_linear):
    kwargs = {"prior": Prior("laplace", 1.0), "sigma": 1.0, "intercept_prior": INTERCEPT}
    return sbc_ranks(linear_regression, X_linear, seed=1, model_kwargs=kwargs, **SETTINGS)


@pytest.fixture(scope="module")
def logistic_laplace():
    X = np.random.default_rng(1).standard_normal((40, 3))
    kwargs = {"prior": Prior("laplace", 1.0), "intercept_prior": INTERCEPT}
    return sbc_ranks(logistic_regression, X, seed=2, model_kwargs=kwargs, **SETTINGS)


def _outer_share(result: SBCResult) -> float:
    """Share of ranks in the lowest and highest bins (0.2 under uniformity with 10 bins)."""
    width = (result.num_draws + 1) // NUM_BINS
    bins = result.ranks // width
    return float(np.mean((bins == 0) | (bins == NUM_BINS - 1)))


@pytest.mark.parametrize("case", ["linear_gaussian", "linear_laplace", "logistic_laplace"])
def test_ranks_are_uniform(case, request):
    result = request.getfixturevalue(case)
    assert result.ranks.shape == (REPLICATES, 4)
    assert result.names == ("coef[0]", "coef[1]", "coef[2]", "intercept")
    assert result.ranks.min() >= 0 and result.ranks.max() <= NUM_DRAWS
    # the fixed-scale Laplace prior samples without divergences here (DESIGN.md)
    assert result.divergences.sum() == 0
    p = rank_uniformity_pvalue(result.ranks, NUM_DRAWS, NUM_BINS)
    assert p >= LEVEL, f"{case}: rank uniformity rejected, Bonferroni p = {p:.2g}"


def test_too_wide_posterior_is_rejected(X_linear):
    """Data with noise sd 0.5 fitted assuming sd 1: the posterior is too wide, ranks pile up in the middle."""
    wrong = sbc_ranks(
        linear_regression,
        X_linear,
        seed=0,
        model_kwargs=LINEAR_GAUSSIAN,
        simulate_kwargs={"sigma": 0.5},
        **SETTINGS,
    )
    p = rank_uniformity_pvalue(wrong.ranks, NUM_DRAWS, NUM_BINS)
    assert p < 1e-6, f"a posterior twice too wide was not detected: p = {p:.2g}"
    assert _outer_share(wrong) < 0.2


def test_too_narrow_posterior_is_rejected(X_linear):
    """Data with noise sd 1 fitted assuming sd 0.5: the posterior is too narrow, ranks pile up at the ends."""
    wrong = sbc_ranks(
        linear_regression,
        X_linear,
        seed=0,
        model_kwargs={**LINEAR_GAUSSIAN, "sigma": 0.5},
        simulate_kwargs={"sigma": 1.0},
        **SETTINGS,
    )
    p = rank_uniformity_pvalue(wrong.ranks, NUM_DRAWS, NUM_BINS)
    assert p < 1e-6, f"a posterior twice too narrow was not detected: p = {p:.2g}"
    assert _outer_share(wrong) > 0.2


def test_pvalues_are_chi_square_on_binned_ranks():
    rng = np.random.default_rng(3)
    ranks = np.column_stack(
        [rng.integers(0, 100, 500), np.repeat(np.arange(100), 5), rng.integers(40, 60, 500)]
    )
    p = rank_uniformity_pvalues(ranks, 99, 10)
    counts = np.bincount(ranks[:, 0] // 10, minlength=10)
    assert p[0] == pytest.approx(stats.chi2.sf(((counts - 50) ** 2 / 50).sum(), 9), rel=1e-12)
    assert p[1] == 1.0  # exactly flat
    assert p[2] < 1e-100  # everything in the middle bins
    assert rank_uniformity_pvalue(ranks, 99, 10) == min(1.0, 3 * p.min())
    assert rank_uniformity_pvalue(ranks[:, :2], 99, 10) == min(1.0, 2 * p[0])
    assert rank_uniformity_pvalues(ranks[:, 0], 99, 10) == pytest.approx(p[:1])


@pytest.mark.parametrize(
    ("ranks", "num_draws", "num_bins", "match"),
    [
        (np.arange(100), 99, 7, "divide"),
        (np.arange(100), 99, 1, "at least 2"),
        (np.arange(101), 99, 10, "lie in"),
        (np.arange(100) - 1, 99, 10, "lie in"),
    ],
)
def test_pvalue_input_checks(ranks, num_draws, num_bins, match):
    with pytest.raises(ValueError, match=match):
        rank_uniformity_pvalues(ranks, num_draws, num_bins)


@pytest.mark.parametrize("bad", [{"num_replicates": 0}, {"thin": 0}, {"num_draws": 2.5}, {"num_warmup": -1}])
def test_sbc_input_checks(bad, X_linear):
    with pytest.raises(ValueError, match=next(iter(bad))):
        sbc_ranks(linear_regression, X_linear, model_kwargs=LINEAR_GAUSSIAN, **bad)


@pytest.mark.parametrize(
    ("prior", "target_accept", "expected"),
    [
        (Prior("gaussian", 0.0, 1.0), None, 0.8),  # numpyro's default
        (Horseshoe(), None, 0.99),  # the sparsity prior's own
        (Horseshoe(), 0.9, 0.9),  # given
    ],
)
def test_target_accept_reaches_the_chains(monkeypatch, X_linear, prior, target_accept, expected):
    """The acceptance target `sbc_ranks` hands the chains driver. The call stops there: that the
    chains adapt their step size to the target they are given is tested in
    tests/test_sampling_settings.py; running them here compiled a NUTS program per case."""
    import bayesreg.calibration as calibration

    seen = {}

    class Reached(Exception):
        pass

    def recording(*args, **kwargs):
        seen.update(kwargs)
        raise Reached

    monkeypatch.setattr(calibration, "sample_chains", recording)
    kwargs = {"prior": prior, "sigma": 1.0, "intercept_prior": INTERCEPT}
    settings = {
        "num_replicates": 2,
        "num_warmup": 5,
        "num_draws": 4,
        "thin": 1,
        "target_accept": target_accept,
    }
    with pytest.raises(Reached):
        sbc_ranks(linear_regression, X_linear, seed=0, model_kwargs=kwargs, **settings)
    assert seen["target_accept"] == expected
