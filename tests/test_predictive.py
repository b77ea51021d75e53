"""Predictions with uncertainty, against references computed independently of bayesreg.predictive.

- ``predict(return_std=True)`` and ``predict_interval`` of a NUTS fit against the exact conjugate
  predictive (σ fixed, Normal(0, s²) prior on each weight, flat intercept: the posterior of
  (coef, intercept) is Gaussian in closed form), within Monte Carlo error (ArviZ's mcse);
- the logistic probability and its interval against the sigmoid of the posterior draws, sorted and
  interpolated here;
- the prior predictive's moments against the prior's closed form;
- ``az.plot_ppc`` on what the estimators return.
"""

import warnings

import arviz as az
import matplotlib
import numpy as np
import numpyro.distributions as dist
import pandas as pd
import pytest
from scipy import optimize, stats
from sklearn.datasets import load_diabetes

from bayesreg import BayesianLinearRegression, BayesianLogisticRegression, DataError
from bayesreg.models import linear_regression, logistic_regression
from bayesreg.predictive import prediction_table, predictive_interval, prior_predictive
from bayesreg.priors import prior_from_penalty

matplotlib.use("Agg")

SIGMA = 55.0  # the noise sd, fixed (about the residual sd of the diabetes data)
PRIOR_SD = 300.0  # Normal(0, PRIOR_SD²) on each weight: alpha = 1/PRIOR_SD² in the book convention


def _quiet_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short runs: the ESS warning is not what these tests are about
        return est.fit(X, y)


@pytest.fixture(scope="module")
def diabetes_frame():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture(scope="module")
def conjugate(diabetes_frame):
    """A NUTS fit on the diabetes data (σ fixed, Gaussian prior, flat intercept) and its exact
    posterior: mean m and covariance V of (coef, intercept)."""
    X, y = diabetes_frame
    est = BayesianLinearRegression(
        prior="gaussian",
        alpha=1.0 / PRIOR_SD**2,
        convention="book",
        sigma=SIGMA,
        method="nuts",
        num_warmup=500,
        num_samples=1000,
        num_chains=4,
        random_state=0,
    )
    _quiet_fit(est, X, y)
    design = np.column_stack([X.to_numpy(float), np.ones(len(X))])
    precision = design.T @ design / SIGMA**2 + np.diag([1.0 / PRIOR_SD**2] * X.shape[1] + [0.0])
    covariance = np.linalg.inv(precision)
    mean = covariance @ design.T @ y.to_numpy(float) / SIGMA**2
    return est, mean, covariance


def _rows(X: pd.DataFrame) -> pd.DataFrame:
    """Ten training rows and the same rows pushed 4x further from the centre (high leverage)."""
    rows = X.iloc[:10]
    far = rows * 4.0
    return pd.concat([rows, far], ignore_index=True)


def _line_draws(est, rows: pd.DataFrame) -> np.ndarray:
    """μ = intercept + x·coef per draw, shape (chain, draw, n), from the posterior directly."""
    posterior = est.idata_.posterior
    coef = posterior["coef"].to_numpy()
    return np.einsum("cdp,np->cdn", coef, rows.to_numpy(float)) + posterior["intercept"].to_numpy()[..., None]


def test_predict_return_std_is_the_conjugate_predictive_sd(conjugate, diabetes_frame):
    est, mean, covariance = conjugate
    rows = _rows(diabetes_frame[0])
    design = np.column_stack([rows.to_numpy(float), np.ones(len(rows))])
    exact_mean = design @ mean
    exact_sd = np.sqrt(np.einsum("ni,ij,nj->n", design, covariance, design) + SIGMA**2)
    predicted, sd = est.predict(rows, return_std=True)
    np.testing.assert_array_equal(predicted, est.predict(rows))
    # Monte Carlo error: sd² − σ² is the mean over draws of (μ − μ̄)², whose MCSE ArviZ gives (it
    # accounts for autocorrelation); by the delta method MCSE(sd) = MCSE(sd²) / (2 sd).
    mu = _line_draws(est, rows)
    squared = (mu - mu.mean(axis=(0, 1))) ** 2
    mcse_var = np.array([az.mcse(squared[..., i], method="mean") for i in range(len(rows))]).ravel()
    mcse_sd = mcse_var / (2.0 * sd)
    mcse_mean = np.array([az.mcse(mu[..., i], method="mean") for i in range(len(rows))]).ravel()
    assert np.all(np.abs(sd - exact_sd) <= 4.0 * mcse_sd), np.abs(sd - exact_sd) / mcse_sd
    assert np.all(np.abs(predicted - exact_mean) <= 4.0 * mcse_mean)
    # the test has power: the weights' uncertainty is a visible share of the sd at the far rows
    far = slice(10, 20)
    assert np.all(exact_sd[far] - SIGMA > 20.0 * mcse_sd[far])


def test_predict_interval_is_the_conjugate_normal_interval(conjugate, diabetes_frame):
    est, mean, covariance = conjugate
    rows = _rows(diabetes_frame[0])
    design = np.column_stack([rows.to_numpy(float), np.ones(len(rows))])
    exact_mean = design @ mean
    exact_sd = np.sqrt(np.einsum("ni,ij,nj->n", design, covariance, design) + SIGMA**2)
    z = stats.norm.ppf(0.95)
    interval = est.predict_interval(rows, prob=0.9)
    assert interval.shape == (len(rows), 2)
    mu = _line_draws(est, rows)
    squared = (mu - mu.mean(axis=(0, 1))) ** 2
    mcse_mean = np.array([az.mcse(mu[..., i], method="mean") for i in range(len(rows))]).ravel()
    mcse_var = np.array([az.mcse(squared[..., i], method="mean") for i in range(len(rows))]).ravel()
    tolerance = 4.0 * (mcse_mean + z * mcse_var / (2.0 * exact_sd))
    assert np.all(np.abs(interval[:, 0] - (exact_mean - z * exact_sd)) <= tolerance)
    assert np.all(np.abs(interval[:, 1] - (exact_mean + z * exact_sd)) <= tolerance)


def test_linear_interval_is_the_quantile_of_the_normal_mixture():
    """With σ varying over the draws the predictive is a mixture of normals: its quantiles, found here
    by scipy's brentq on the mixture's distribution function, are the interval's ends."""
    rng = np.random.default_rng(3)
    coef = rng.normal([1.0, -0.5], 0.3, size=(2, 150, 2))
    sigma = rng.gamma(2.0, 0.5, size=(2, 150))
    idata = az.from_dict(posterior={"coef": coef, "sigma": sigma}, dims={"coef": ["feature"]})
    X = np.array([[0.0, 0.0], [1.0, 2.0], [-3.0, 5.0]])
    interval = predictive_interval(idata, X, prob=0.8)
    mu = coef.reshape(-1, 2) @ X.T
    s = sigma.reshape(-1)
    for i in range(len(X)):
        for j, q in enumerate([0.1, 0.9]):
            cdf = lambda v, i=i, q=q: stats.norm.cdf((v - mu[:, i]) / s).mean() - q  # noqa: E731
            reference = optimize.brentq(cdf, -100.0, 100.0, xtol=1e-14, rtol=1e-15)
            assert interval[i, j] == pytest.approx(reference, rel=1e-10, abs=1e-10)


@pytest.fixture(scope="module")
def logistic(breast_cancer):
    X, y = breast_cancer
    X = pd.DataFrame(X[:150, :3], columns=["a", "b", "c"])
    labels = np.where(y[:150] == 1, "benign", "malignant")
    est = BayesianLogisticRegression(
        prior="gaussian", C=0.5, method="nuts", num_warmup=200, num_samples=250, num_chains=2, random_state=1
    )
    return _quiet_fit(est, X, labels), X, labels


def _probability_draws(est, X) -> np.ndarray:
    """sigmoid(intercept + X coef) per draw, (S, n), from the posterior arrays."""
    posterior = est.idata_.posterior
    coef = posterior["coef"].to_numpy().reshape(-1, X.shape[1])
    intercept = posterior["intercept"].to_numpy().reshape(-1)
    return 1.0 / (1.0 + np.exp(-(np.asarray(X, float) @ coef.T + intercept).T))


def _quantile(values: np.ndarray, q: float) -> np.ndarray:
    """Hyndman and Fan's type 7 quantile (linear interpolation) of each column, written out."""
    ordered = np.sort(values, axis=0)
    h = (ordered.shape[0] - 1) * q
    low = int(np.floor(h))
    high = min(low + 1, ordered.shape[0] - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


def test_logistic_interval_and_probability_from_the_draws(logistic):
    est, X, _labels = logistic
    p = _probability_draws(est, X)
    np.testing.assert_allclose(est.predict_proba(X)[:, 1], p.mean(axis=0), rtol=1e-12)
    interval = est.predict_interval(X, prob=0.8)
    np.testing.assert_allclose(interval[:, 0], _quantile(p, 0.1), rtol=1e-12)
    np.testing.assert_allclose(interval[:, 1], _quantile(p, 0.9), rtol=1e-12)
    assert np.all(interval[:, 0] <= est.predict_proba(X)[:, 1]) and np.all(interval[:, 1] <= 1.0)


def test_logistic_predictions_group_draws_labels_at_the_probability(logistic):
    est, X, _ = logistic
    new = est.predictive(X.iloc[:20], seed=3)
    assert new.groups() == ["posterior", "predictions", "predictions_constant_data"]
    probability = new.predictions["probability"].to_numpy().reshape(-1, 20)
    np.testing.assert_allclose(probability, _probability_draws(est, X.iloc[:20]), rtol=1e-12)
    labels = new.predictions["y"].to_numpy().reshape(-1, 20)
    assert set(np.unique(labels)) <= {0.0, 1.0}
    # each label is Bernoulli(p_s) given its draw: the mean over 500 draws is within binomial error
    expected = probability.mean(axis=0)
    se = np.sqrt(np.mean(probability * (1 - probability), axis=0) / labels.shape[0])
    assert np.all(np.abs(labels.mean(axis=0) - expected) <= 4.0 * se + 1e-12)
    np.testing.assert_array_equal(new.predictions_constant_data["X"].to_numpy(), X.iloc[:20].to_numpy(float))
    assert list(new.predictions_constant_data["feature"].to_numpy()) == ["a", "b", "c"]


def test_plot_ppc_works_on_the_posterior_predictive(conjugate, diabetes_frame, logistic):
    import matplotlib.pyplot as plt

    est, *_ = conjugate
    X, y = diabetes_frame
    check = est.predictive(X, y, seed=0)
    assert {"posterior_predictive", "observed_data", "constant_data"} <= set(check.groups())
    assert check.posterior_predictive["y"].shape == (4, 1000, len(y))
    axes = az.plot_ppc(check, num_pp_samples=20)
    assert len(np.ravel(axes)) >= 1
    log, X_log, labels = logistic
    axes = az.plot_ppc(log.predictive(X_log, labels), num_pp_samples=20)
    np.testing.assert_array_equal(
        log.predictive(X_log, labels).observed_data["y"].to_numpy(), (labels == "malignant").astype(float)
    )
    plt.close("all")


def test_predictive_refuses_unknown_labels(logistic):
    est, X, _labels = logistic
    with pytest.raises(DataError, match="labels the model was not fitted on: maybe"):
        est.predictive(X.iloc[:2], ["benign", "maybe"])


def test_prior_predictive_moments_are_the_prior_closed_form():
    """Normal(0, s²) weights, intercept ~ N(m, t²), σ fixed: y* at x is N(m, σ² + s²‖x‖² + t²)."""
    s, sigma, m, t = 0.7, 0.5, 3.0, 2.0
    X = np.array([[0.0, 0.0], [1.0, -2.0], [3.0, 1.0]])
    prior = prior_from_penalty("gaussian", 1.0 / s**2, convention="book")
    n = 20000
    draws = prior_predictive(
        linear_regression,
        X,
        num_samples=n,
        seed=4,
        prior=prior,
        sigma=sigma,
        intercept_prior=dist.Normal(m, t),
    )
    assert draws.groups() == ["prior", "prior_predictive", "constant_data"]
    y = draws.prior_predictive["y"].to_numpy().reshape(n, 3)
    variance = sigma**2 + s**2 * (X**2).sum(axis=1) + t**2
    # independent normal draws: the MCSE of the mean is sd/√n, of the variance var·√(2/(n − 1))
    assert np.all(np.abs(y.mean(axis=0) - m) <= 4.0 * np.sqrt(variance / n))
    assert np.all(np.abs(y.var(axis=0, ddof=1) - variance) <= 4.0 * variance * np.sqrt(2.0 / (n - 1)))
    coef = draws.prior["coef"].to_numpy().reshape(n, 2)
    assert np.all(np.abs(coef.var(axis=0, ddof=1) - s**2) <= 4.0 * s**2 * np.sqrt(2.0 / (n - 1)))


def test_estimator_prior_predictive_with_a_learned_noise_sd(diabetes_frame):
    """Ridge in the sklearn convention (coef | σ ~ N(0, σ²/α)), σ ~ Exponential(1/std(y)) from the fit:
    Var y* = E σ² (1 + ‖x‖²/α) + t², with E σ² = 2 std(y)²."""
    X, y = diabetes_frame
    alpha, t = 0.01, 10.0
    est = BayesianLinearRegression(prior="gaussian", alpha=alpha).fit(X, y)
    assert isinstance(est.sigma_prior_, dist.Exponential)
    rows = X.iloc[:3]
    n = 200_000  # y is a scale mixture (kurtosis ≈ 17): 4 MCSE is then 4% of the variance
    draws = est.prior_predictive(rows, num_samples=n, seed=1, intercept_prior=dist.Normal(150.0, t))
    ys = draws.prior_predictive["y"].to_numpy().reshape(n, 3)
    variance = 2.0 * np.std(y.to_numpy()) ** 2 * (1.0 + (rows.to_numpy() ** 2).sum(axis=1) / alpha) + t**2
    centred = (ys - ys.mean(axis=0)) ** 2
    mcse = centred.std(axis=0, ddof=1) / np.sqrt(n)  # independent draws: the MCSE of a mean of squares
    assert np.all(np.abs(centred.mean(axis=0) - variance) <= 4.0 * mcse)
    assert list(draws.prior["coef"].coords["feature"].to_numpy()) == list(X.columns)


def test_logistic_prior_predictive_and_the_flat_intercept(breast_cancer):
    X, y = breast_cancer
    est = BayesianLogisticRegression(prior="gaussian", C=4.0).fit(X[:, :2], y)
    with pytest.raises(ValueError, match="intercept's prior is flat"):
        est.prior_predictive(X[:3, :2])
    n = 20000
    draws = est.prior_predictive(X[:3, :2], num_samples=n, seed=2, intercept_prior=0.5)
    coef = draws.prior["coef"].to_numpy().reshape(n, 2)
    assert np.all(
        np.abs(coef.var(axis=0, ddof=1) - 4.0) <= 4.0 * 4.0 * np.sqrt(2.0 / (n - 1))
    )  # Normal(0, √C)
    assert np.all(draws.prior["intercept"].to_numpy() == 0.5)
    labels = draws.prior_predictive["y"].to_numpy().reshape(n, 3)
    probability = draws.prior_predictive["probability"].to_numpy().reshape(n, 3)
    assert np.all(np.abs(labels.mean(axis=0) - probability.mean(axis=0)) <= 4.0 * np.sqrt(0.25 / n))
    with pytest.raises(ValueError, match="intercept's prior is flat"):
        prior_predictive(logistic_regression, X[:3, :2], prior=est.prior_)


def test_map_fit_has_no_uncertainty_to_report(diabetes_frame):
    X, y = diabetes_frame
    est = BayesianLinearRegression(alpha=0.1).fit(X, y)
    for call in (
        lambda: est.predict(X, return_std=True),
        lambda: est.predict_interval(X),
        lambda: est.predictive(X),
    ):
        with pytest.raises(ValueError, match=r"method='map'.*refit with method='nuts'"):
            call()
    table = prediction_table(est, X)
    assert list(table.columns) == ["mean"]
    np.testing.assert_array_equal(table["mean"], est.predict(X))


def test_new_data_columns_are_checked_by_name(conjugate, diabetes_frame):
    est, *_ = conjugate
    X, y = diabetes_frame
    shuffled = X[list(reversed(X.columns))].assign(target=y, id=np.arange(len(X)))
    with pytest.raises(ValueError, match="Feature names must be in the same order as they were in fit"):
        est.predict(X[list(reversed(X.columns))])
    with pytest.raises(ValueError, match="Feature names seen at fit time, yet now missing:\n- bmi"):
        est.predict(X.drop(columns="bmi"))
    table = prediction_table(est, shuffled, prob=0.8)
    assert list(table.columns) == ["mean", "sd", "lower", "upper"]
    assert table.attrs["ignored_columns"] == ["target", "id"] and table.attrs["prob"] == 0.8
    mean, sd = est.predict(X, return_std=True)
    np.testing.assert_array_equal(table["mean"], mean)
    np.testing.assert_array_equal(table["sd"], sd)
    np.testing.assert_array_equal(table[["lower", "upper"]].to_numpy(), est.predict_interval(X, prob=0.8))
    with pytest.raises(DataError, match="feature columns 'bmi', 's5' are missing from the new data"):
        prediction_table(est, X.drop(columns=["bmi", "s5"]))
    with pytest.raises(DataError, match="column 'bmi' is not numeric"):
        prediction_table(est, X.assign(bmi="high"))


def test_logistic_prediction_table_names_the_modelled_class(logistic):
    est, X, _ = logistic
    table = prediction_table(est, X.iloc[:5][["c", "a", "b"]])
    assert list(table.columns) == ["probability", "lower", "upper", "predicted"]
    assert table.attrs["modelled_class"] == "malignant"
    np.testing.assert_array_equal(table["probability"], est.predict_proba(X.iloc[:5])[:, 1])
    np.testing.assert_array_equal(table["predicted"], est.predict(X.iloc[:5]))


def test_prior_predictive_without_intercept_under_a_laplace_prior(diabetes_frame):
    """Laplace(0, b) weights (variance 2b²), no intercept, σ fixed: Var y* = σ² + 2b²‖x‖²."""
    X, y = diabetes_frame
    sigma, b = 20.0, 50.0
    est = BayesianLinearRegression(
        prior="laplace", alpha=1.0 / b, convention="book", sigma=sigma, fit_intercept=False
    )
    est.fit(X, y - y.mean())
    rows = X.iloc[:3] * 10.0
    n = 100_000
    draws = est.prior_predictive(rows, num_samples=n, seed=5)
    assert "intercept" not in draws.prior
    ys = draws.prior_predictive["y"].to_numpy().reshape(n, 3)
    variance = sigma**2 + 2.0 * b**2 * (rows.to_numpy() ** 2).sum(axis=1)
    centred = ys**2  # the prior predictive mean is 0
    mcse = centred.std(axis=0, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(centred.mean(axis=0) - variance) <= 4.0 * mcse)
    with pytest.raises(ValueError, match="unknown family 'gamma'"):
        predictive_interval(az.InferenceData(posterior=draws.prior), rows, family="gamma")


@pytest.mark.parametrize("family", ["gaussian", "student_t", "bernoulli", "poisson", "negative_binomial"])
def test_predictive_sd_is_the_sd_of_predictive_draws(family):
    """`predictive_sd`'s law of total variance against the sd of 200,000 posterior predictive draws
    (many copies of 500 posterior draws), within 4 standard errors of the sample sd (from the draws'
    own fourth moment), at three rows with an offset for the count families."""
    from bayesreg.predictive import predictive_draws, predictive_sd

    rng = np.random.default_rng(11)
    draws = 500
    posterior = {
        "coef": rng.normal([0.4, -0.3], 0.2, size=(1, draws, 2)),
        "intercept": rng.normal(0.5, 0.1, size=(1, draws)),
        "sigma": rng.gamma(20.0, 0.05, size=(1, draws)),
        "df": 3.0 + rng.gamma(4.0, 1.0, size=(1, draws)),
        "dispersion": rng.gamma(10.0, 0.05, size=(1, draws)),
    }
    idata = az.from_dict(posterior=posterior, dims={"coef": ["feature"]})
    idata.posterior.attrs["family"] = family
    rows = np.array([[0.0, 0.0], [1.0, 2.0], [-2.0, 1.5]])
    offset = np.log([1.0, 3.0, 0.5]) if family in ("poisson", "negative_binomial") else None
    copies = 400
    tiled = az.from_dict(
        posterior={k: np.tile(v, (1, copies) + (1,) * (v.ndim - 2)) for k, v in posterior.items()}
    )
    tiled.posterior.attrs["family"] = family
    simulated = predictive_draws(tiled, rows, seed=3, offset=offset).astype(float)
    centred = simulated - simulated.mean(axis=0)
    se = np.sqrt(np.var(centred**2, axis=0) / simulated.shape[0]) / (2 * simulated.std(axis=0))
    sd = predictive_sd(idata, rows, offset=offset)
    assert np.all(np.abs(sd - simulated.std(axis=0)) < 4 * se), (sd, simulated.std(axis=0), se)
