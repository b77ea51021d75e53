"""The MAP-versus-posterior table, on posteriors whose answers are known."""

import arviz as az
import numpy as np
import pytest
from scipy import stats

from bayesreg.compare import (
    compare_map_posterior,
    posterior_summary,
    predictive_coverage,
    predictive_draws,
    sparsity_summary,
)


def _idata(coef, intercept=None, sigma=None, names=None):
    """InferenceData from draws of shape (chains, draws, p)."""
    posterior = {"coef": coef}
    if intercept is not None:
        posterior["intercept"] = intercept
    if sigma is not None:
        posterior["sigma"] = sigma
    names = names or [f"x{j}" for j in range(coef.shape[-1])]
    return az.from_dict(posterior=posterior, coords={"feature": names}, dims={"coef": ["feature"]})


@pytest.fixture(scope="module")
def known():
    rng = np.random.default_rng(0)
    means = np.array([0.0, 1.5, -2.0, 0.05])
    sds = np.array([1.0, 0.5, 0.25, 0.1])
    draws = means + sds * rng.standard_normal((4, 5000, 4))
    return _idata(draws, names=["a", "b", "c", "d"]), draws.reshape(-1, 4), means, sds


def test_table_columns_match_the_draws(known):
    idata, flat, means, sds = known
    map_coef = np.array([0.0, 1.4, -1.9, 0.0])
    table = compare_map_posterior(idata, map_coef, hdi_prob=0.9, eps=0.2)
    assert list(table.index) == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(table["map"], map_coef)
    np.testing.assert_allclose(table["mean"], flat.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(table["median"], np.median(flat, axis=0), rtol=1e-12)
    np.testing.assert_allclose(table["sd"], flat.std(axis=0, ddof=1), rtol=1e-12)
    hdi = az.hdi(idata, hdi_prob=0.9)["coef"].to_numpy()
    np.testing.assert_array_equal(table[["hdi_low", "hdi_high"]].to_numpy(), hdi)
    np.testing.assert_allclose(table["p_positive"], (flat > 0).mean(axis=0))
    np.testing.assert_allclose(table["p_near_zero"], (np.abs(flat) < 0.2).mean(axis=0))
    # against the exact normal answers, within Monte Carlo error (20000 independent draws)
    mcse = np.sqrt(0.25 / flat.shape[0])
    np.testing.assert_allclose(table["p_positive"], stats.norm.sf(0, means, sds), atol=4 * mcse)
    half = stats.norm.ppf(0.95) * sds  # the 90% HDI of a normal is its central interval
    np.testing.assert_allclose(table["hdi_low"], means - half, atol=0.05 * sds.max())
    assert table["map_is_zero"].tolist() == [True, False, False, True]
    assert table["hdi_contains_zero"].tolist() == [True, False, False, True]
    assert table.attrs == {"hdi_prob": 0.9, "eps": 0.2}


def test_sparsity_summary_counts(known):
    idata, *_ = known
    table = compare_map_posterior(idata, np.array([0.0, 1.4, 0.0, 0.0]))
    assert sparsity_summary(table) == {
        "n_features": 4,
        "map_zeros": 3,
        "posterior_mean_zeros": 0,
        "posterior_median_zeros": 0,
        "hdi_contains_zero": 2,
        "map_zero_but_hdi_excludes_zero": 1,  # feature c: MAP 0 but the posterior is far from it
    }


def test_map_shape_mismatch_is_named(known):
    idata, *_ = known
    with pytest.raises(ValueError, match=r"map_coef has shape \(3,\)"):
        compare_map_posterior(idata, np.zeros(3))


@pytest.mark.parametrize("prob", [0.5, 0.9])
def test_predictive_coverage_is_calibrated_when_the_posterior_is_exact(prob):
    # A posterior concentrated on the true parameters: coverage is Binomial(n, prob) / n.
    rng = np.random.default_rng(1)
    n, p, draws = 4000, 3, 2000
    coef, intercept, sigma = np.array([1.0, -2.0, 0.5]), 3.0, 0.7
    X = rng.normal(size=(n, p))
    y = intercept + X @ coef + sigma * rng.standard_normal(n)
    idata = _idata(
        np.broadcast_to(coef, (1, draws, p)).copy(),
        intercept=np.full((1, draws), intercept),
        sigma=np.full((1, draws), sigma),
    )
    coverage = predictive_coverage(idata, X, y, prob=prob)
    assert abs(coverage - prob) < 4 * np.sqrt(prob * (1 - prob) / n)


def test_predictive_coverage_uses_a_fixed_sigma_from_attrs():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3000, 1))
    y = 2.0 * X[:, 0] + 0.1 * rng.standard_normal(3000)
    idata = _idata(np.full((1, 1000, 1), 2.0))
    idata.posterior.attrs["sigma"] = 0.1
    assert abs(predictive_coverage(idata, X, y, prob=0.8) - 0.8) < 4 * np.sqrt(0.16 / 3000)
    idata.posterior.attrs["sigma"] = 0.01  # too narrow: coverage collapses
    assert predictive_coverage(idata, X, y, prob=0.8) < 0.2


def test_posterior_summary_rows_and_columns_match_the_draws():
    """Labels are the feature names then the other variables; every column is its ArviZ / NumPy value
    computed separately (sd with ddof 1, rank-normalised R-hat, bulk and tail ESS)."""
    rng = np.random.default_rng(3)
    coef = np.array([0.5, -1.0, 2.0]) + rng.standard_normal((4, 400, 3)).cumsum(axis=1) * 0.05
    idata = _idata(
        coef, intercept=rng.normal(size=(4, 400)), sigma=rng.gamma(3.0, size=(4, 400)), names=["u", "v", "w"]
    )
    table = posterior_summary(idata, var_names=("coef", "intercept", "sigma", "absent"), hdi_prob=0.8)
    assert list(table.index) == ["u", "v", "w", "intercept", "sigma"]
    values = np.column_stack(
        [
            coef.reshape(-1, 3),
            idata.posterior["intercept"].to_numpy().ravel(),
            idata.posterior["sigma"].to_numpy().ravel(),
        ]
    )
    np.testing.assert_allclose(table["mean"], values.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(table["sd"], values.std(axis=0, ddof=1), rtol=1e-12)
    rhat, bulk, tail = az.rhat(idata), az.ess(idata, method="bulk"), az.ess(idata, method="tail")
    hdi = az.hdi(idata, hdi_prob=0.8)
    for column, stat in (("r_hat", rhat), ("ess_bulk", bulk), ("ess_tail", tail)):
        expected = np.append(stat["coef"].to_numpy(), [float(stat["intercept"]), float(stat["sigma"])])
        np.testing.assert_allclose(table[column], expected, rtol=1e-12, err_msg=column)
    np.testing.assert_allclose(table.loc[["u", "v", "w"], ["hdi_low", "hdi_high"]], hdi["coef"].to_numpy())
    np.testing.assert_allclose(table.loc["sigma", ["hdi_low", "hdi_high"]], hdi["sigma"].to_numpy())
    assert table["r_hat"].max() > 1.01  # the random-walk coefficients are poorly mixed: it shows


def test_predictive_draws_of_a_logistic_posterior_are_labels():
    """A logistic posterior has no σ: the draws are Bernoulli(sigmoid(intercept + x·coef)) labels, the
    family read from the 0/1 observed targets (or given)."""
    rng = np.random.default_rng(4)
    logits = np.array([-1.0, 0.0, 2.0])
    idata = az.from_dict(
        posterior={"coef": np.broadcast_to(logits, (2, 3000, 3)).copy()},
        observed_data={"y": np.array([0.0, 1.0, 1.0])},
        dims={"coef": ["feature"]},
    )
    X = np.eye(3)
    draws = predictive_draws(idata, X, seed=1)
    assert draws.shape == (6000, 3) and set(np.unique(draws)) == {0.0, 1.0}
    p = stats.logistic.cdf(logits)
    assert np.all(np.abs(draws.mean(axis=0) - p) <= 4.0 * np.sqrt(p * (1 - p) / 6000))
    np.testing.assert_array_equal(predictive_draws(idata, X, seed=1, family="bernoulli"), draws)
    with pytest.raises(ValueError, match="predictive_coverage is for a linear model"):
        predictive_coverage(idata, X, np.array([0.0, 1.0, 1.0]))
    unlabelled = az.from_dict(posterior={"coef": rng.normal(size=(1, 10, 3))}, dims={"coef": ["feature"]})
    with pytest.raises(ValueError, match="pass family= one of 'gaussian', 'bernoulli'"):
        predictive_draws(unlabelled, X)
