"""``alpha="hierarchical"`` as users call it: the estimators, the model folder and the command line.

The hierarchical posteriors themselves are checked in tests/test_hierarchical.py (a Park–Casella
Gibbs sampler written there, SBC). Here the estimators must be exactly the library's fit
(`fit_posterior` under the same hierarchical prior, data and seed: the same draws, bitwise), their
``alpha_`` / ``alpha_interval_`` (``C_`` / ``C_interval_``) must be `alpha_posterior`'s, a saved
model must come back with them, and the command line must save and print what the estimator
fits. Real data as users load them: scikit-learn's diabetes data unscaled (the Bayesian lasso,
sampled in its collapsed form) and 8 breast-cancer columns unscaled with ``standardize=True``
(logistic ridge with a half-Cauchy prior on its sd).
"""

import json

import numpy as np
import pandas as pd
import pytest
from cli_runs import run
from short_fits import (
    LINEAR_NUTS,
    LOGISTIC_NUTS,
    SEED,
    estimator_seed,
    quiet,
    standardized_logistic_posterior,
)

import bayesreg
from bayesreg import BayesianLinearRegression, BayesianLogisticRegression
from bayesreg.defaults import ALPHA_INTERVAL, HIERARCHICAL_TARGET_ACCEPT
from bayesreg.hierarchical import HierarchicalGaussian, HierarchicalLaplace, alpha_posterior
from bayesreg.models import SufficientStats, linear_regression, linear_regression_stats
from bayesreg.priors import noise_prior
from bayesreg.sampling import fit_posterior


@pytest.fixture(scope="module")
def lasso_fit(raw_diabetes_frame):
    X, y = raw_diabetes_frame
    est = BayesianLinearRegression(alpha="hierarchical", method="nuts", random_state=SEED, **LINEAR_NUTS)
    return quiet(lambda: est.fit(X, y))


@pytest.fixture(scope="module")
def logistic_fit(raw_breast_cancer_frame):
    X, y = raw_breast_cancer_frame
    est = BayesianLogisticRegression(
        prior="gaussian",
        C="hierarchical",
        standardize=True,
        method="nuts",
        random_state=SEED,
        **LOGISTIC_NUTS,
    )
    return quiet(lambda: est.fit(X, y))


def _library_lasso_fit(X, y, prior, **options):
    """`fit_posterior` of the linear model under ``prior`` as the estimator calls it for the raw
    diabetes frame (centred statistics, the rows for PSIS-LOO, its σ prior and chain seed)."""
    Xa, ya = X.to_numpy(float), y.to_numpy(float)
    return quiet(
        lambda: fit_posterior(
            linear_regression_stats,
            SufficientStats.from_data(Xa, ya, center=True),
            observed=(linear_regression, Xa, ya),
            feature_names=list(X.columns),
            seed=estimator_seed(SEED),
            prior=prior,
            sigma=noise_prior(ya),
            fit_intercept=True,
            **options,
            **LINEAR_NUTS,
        )
    )


# --- the estimators are the library's fit --------------------------------------------------------


def test_linear_hierarchical_lasso_is_fit_posterior_bitwise(lasso_fit, raw_diabetes_frame):
    X, y = raw_diabetes_frame
    prior = HierarchicalLaplace()
    fit = _library_lasso_fit(X, y, prior)
    est = lasso_fit
    posterior = fit.idata.posterior
    np.testing.assert_array_equal(est.idata_.posterior["lambda_sq"], posterior["lambda_sq"])
    np.testing.assert_array_equal(est.coef_, posterior["coef"].mean(("chain", "draw")).to_numpy())
    assert est.intercept_ == float(posterior["intercept"].mean())
    assert est.sigma_ == float(posterior["sigma"].mean())
    # alpha_ is alpha_posterior's median in scikit-learn's Lasso convention, with its interval
    expected = alpha_posterior(fit.idata, prior, convention="sklearn")
    np.testing.assert_array_equal(est.alpha_posterior_.draws, expected.draws)
    assert est.alpha_ == expected.median and est.alpha_interval_ == expected.interval
    assert expected.prob == ALPHA_INTERVAL and expected.interval[0] < est.alpha_ < expected.interval[1]
    # no MAP, the prior's target_accept, the collapsed form, and no divergence
    assert est.prior_ == prior and est.map_ is None and est.n_iter_ is None and fit.map is None
    assert est.posterior_fit_.parametrisation == "collapsed"
    assert est.diagnostics_.divergences == 0
    assert est.diagnostics_.max_rhat < 1.02
    assert not hasattr(est, "cv_results_") and not hasattr(est, "C_")


def test_linear_hierarchical_lasso_by_gibbs_is_fit_posterior_bitwise(raw_diabetes_frame):
    """``method="gibbs"`` takes the Park–Casella sampler of `bayesreg.gibbs` (checked against NUTS in
    tests/test_gibbs.py): the same draws as `fit_posterior(sampler="gibbs")`, and α read from them."""
    X, y = raw_diabetes_frame
    prior = HierarchicalLaplace()
    est = BayesianLinearRegression(alpha="hierarchical", method="gibbs", random_state=SEED, **LINEAR_NUTS)
    quiet(lambda: est.fit(X, y))
    fit = _library_lasso_fit(X, y, prior, sampler="gibbs")
    assert est.posterior_fit_.parametrisation == "gibbs"
    np.testing.assert_array_equal(est.idata_.posterior["lambda_sq"], fit.idata.posterior["lambda_sq"])
    expected = alpha_posterior(fit.idata, prior, convention="sklearn")
    assert est.alpha_ == expected.median and est.alpha_interval_ == expected.interval


def test_book_convention_is_the_same_posterior_in_other_units(lasso_fit, raw_diabetes_frame):
    """The convention changes only how α is reported: book α = λ/σ per draw, Lasso α = λσ/n."""
    X, y = raw_diabetes_frame
    est = BayesianLinearRegression(
        alpha="hierarchical", convention="book", method="nuts", random_state=SEED, **LINEAR_NUTS
    )
    est = quiet(lambda: est.fit(X, y))
    np.testing.assert_array_equal(est.coef_, lasso_fit.coef_)
    posterior = est.idata_.posterior
    lam, sigma = np.sqrt(posterior["lambda_sq"].to_numpy()), posterior["sigma"].to_numpy()
    np.testing.assert_allclose(est.alpha_posterior_.draws, lam / sigma, rtol=1e-12)
    np.testing.assert_allclose(lasso_fit.alpha_posterior_.draws, lam * sigma / X.shape[0], rtol=1e-12)
    assert est.alpha_ == pytest.approx(float(np.median(lam / sigma)), rel=1e-12)  # λ/σ computed as 1/(σ/λ)


def test_logistic_hierarchical_ridge_c_is_one_over_alpha(logistic_fit, raw_breast_cancer_frame):
    X, y = raw_breast_cancer_frame
    prior = HierarchicalGaussian()
    fit = standardized_logistic_posterior(X, y, prior)
    est = logistic_fit
    posterior = est.idata_.posterior
    np.testing.assert_array_equal(posterior["coef_standardized"], fit.idata.posterior["coef"])
    np.testing.assert_array_equal(posterior["tau"], fit.idata.posterior["tau"])
    expected = alpha_posterior(fit.idata, prior)
    low, high = expected.interval
    assert est.alpha_ == expected.median and est.alpha_interval_ == expected.interval
    assert est.C_ == 1.0 / expected.median and est.C_interval_ == (1.0 / high, 1.0 / low)
    # C = 1/α = τ² per draw (σ = 1; scikit-learn's C is the prior variance of each weight)
    tau = fit.idata.posterior["tau"].to_numpy()
    np.testing.assert_allclose(1.0 / est.alpha_posterior_.draws, tau**2, rtol=1e-12)
    assert est.prior_ == prior and est.map_ is None
    assert est.diagnostics_.divergences == 0
    assert (est.predict(X) == y).mean() > 0.9


@pytest.mark.parametrize(
    ("cls", "params", "message"),
    [
        (BayesianLinearRegression, {"alpha": "hierarchical"}, "alpha='hierarchical' samples the penalty"),
        (BayesianLogisticRegression, {"C": "hierarchical"}, "C='hierarchical' samples the penalty"),
        (
            BayesianLinearRegression,
            {"alpha": "hierarchical", "prior": "elasticnet", "method": "nuts"},
            "no hierarchical prior for the elasticnet penalty; expected one of laplace, gaussian",
        ),
        (
            BayesianLinearRegression,
            {"alpha": "hierarchical", "prior": "horseshoe", "method": "nuts"},
            "alpha='hierarchical' does not apply to prior='horseshoe'",
        ),
        (BayesianLogisticRegression, {"C": "eb"}, "C='eb' (empirical Bayes) needs the Gaussian likelihood"),
    ],
)
def test_bad_settings_named(cls, params, message, raw_diabetes_frame):
    X, y = raw_diabetes_frame
    if cls is BayesianLogisticRegression:
        y = (y > y.median()).astype(int)
    with pytest.raises(ValueError) as error:
        cls(**params).fit(X, y)
    assert message in str(error.value), str(error.value)


def test_a_refit_with_a_number_forgets_the_learned_posterior(raw_diabetes_frame):
    X, y = raw_diabetes_frame
    est = BayesianLinearRegression(alpha="hierarchical", method="nuts", random_state=SEED, **LINEAR_NUTS)
    quiet(lambda: est.fit(X.iloc[:100], y.iloc[:100]))
    est.set_params(alpha=0.5, method="map").fit(X, y)
    assert est.alpha_ == 0.5
    assert not hasattr(est, "alpha_posterior_") and not hasattr(est, "alpha_interval_")


# --- the model folder ----------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["lasso_fit", "logistic_fit"])
def test_save_load_keeps_alpha_and_its_posterior(which, request, tmp_path):
    est = request.getfixturevalue(which)
    data = request.getfixturevalue(
        "raw_diabetes_frame" if which == "lasso_fit" else "raw_breast_cancer_frame"
    )
    est.save(tmp_path)
    loaded = bayesreg.load(tmp_path)
    assert loaded.prior_ == est.prior_ and type(loaded.prior_) is type(est.prior_)
    assert loaded.alpha_ == est.alpha_ and loaded.alpha_interval_ == est.alpha_interval_
    np.testing.assert_array_equal(loaded.alpha_posterior_.draws, est.alpha_posterior_.draws)
    assert loaded.alpha_posterior_.describe() == est.alpha_posterior_.describe()
    if which == "logistic_fit":
        assert loaded.C_ == est.C_ and loaded.C_interval_ == est.C_interval_
        np.testing.assert_array_equal(loaded.predict_proba(data[0]), est.predict_proba(data[0]))
    else:
        np.testing.assert_array_equal(loaded.predict(data[0]), est.predict(data[0]))
    record = json.loads((tmp_path / "model.json").read_text())["fitted"]
    assert record["prior_"]["kind"] == est.prior_.kind and record["map_"] is None


# --- the command line ----------------------------------------------------------------------------


def _fit_argv(raw_diabetes_csv, *extra):
    return ["fit", str(raw_diabetes_csv), "--target", "progression", *extra]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--alpha", "hierarchical"], "--alpha hierarchical samples alpha with the weights by NUTS"),
        (
            ["--alpha", "hierarchical", "--prior", "elasticnet", "--method", "nuts", "--out", "X"],
            "--alpha hierarchical needs --prior laplace or gaussian",
        ),
    ],
)
def test_cli_refusals_are_one_line(extra, message, raw_diabetes_csv, tmp_path):
    code, stdout, stderr = run(_fit_argv(raw_diabetes_csv, *extra))
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("bayesreg fit: error: ") and message in stderr


def test_cli_fit_saves_and_prints_the_estimators_alpha(raw_diabetes_csv, lasso_fit, tmp_path, cache_home):
    out = tmp_path / "model"
    settings = [f"--{k.replace('_', '-')}={v}" for k, v in LINEAR_NUTS.items()]
    argv = _fit_argv(raw_diabetes_csv, "--alpha", "hierarchical", "--method", "nuts", *settings)
    code, stdout, stderr = run([*argv, "--seed", str(SEED), "--out", str(out)])
    assert code in (0, 3), stderr  # 3: the short chains' ESS is below the gate's threshold
    assert "Traceback" not in stderr
    assert lasso_fit.alpha_posterior_.describe() in stdout
    assert f"target_accept {HIERARCHICAL_TARGET_ACCEPT:g}" in stdout
    loaded = bayesreg.load(out)  # the CLI's seed 0 is the estimator's random_state 0: the same fit
    np.testing.assert_array_equal(loaded.coef_, lasso_fit.coef_)
    assert loaded.alpha_ == lasso_fit.alpha_
    table = pd.read_csv(out / "alpha.csv")
    ap = lasso_fit.alpha_posterior_
    assert table.shape[0] == 1
    row = table.iloc[0]
    assert (row["alpha"], row["mean"], row["low"], row["high"], row["prob"]) == (
        ap.median,
        ap.mean,
        *ap.interval,
        ap.prob,
    )
    assert row["method"] == lasso_fit.prior_.describe()
