"""The sparsity priors as users call them: the estimators, the model folder and the command line.

The posteriors themselves are checked in tests/test_shrinkage.py (a Gibbs sampler written there,
SBC); here the estimators must be exactly the library's fit (`fit_posterior` with the same prior,
data and seed: the same draws, bitwise), a saved model must predict bitwise what the fitted one
does, the command line must save what the estimator fits, and every bad setting is refused by
name. Real data as users load them: scikit-learn's diabetes data unscaled (the linear horseshoe,
sampled in its collapsed form, 0 divergences) and 8 breast-cancer columns unscaled (the logistic
regularised horseshoe, with ``standardize=True``: on the raw columns its chains did not mix,
R-hat 1.23 and bulk ESS 9 in 2 × 200 draws).
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
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

import bayesreg
from bayesreg import BayesianLinearRegression, BayesianLogisticRegression
from bayesreg.defaults import SHRINKAGE, SHRINKAGE_TARGET_ACCEPT
from bayesreg.models import SufficientStats, linear_regression, linear_regression_stats
from bayesreg.priors import noise_prior
from bayesreg.sampling import fit_posterior
from bayesreg.shrinkage import R2D2, Horseshoe, RegularizedHorseshoe


@pytest.fixture(scope="module")
def horseshoe_fit(raw_diabetes_frame):
    X, y = raw_diabetes_frame
    est = BayesianLinearRegression(prior="horseshoe", method="nuts", random_state=SEED, **LINEAR_NUTS)
    return quiet(lambda: est.fit(X, y))


@pytest.fixture(scope="module")
def logistic_fit(raw_breast_cancer_frame):
    X, y = raw_breast_cancer_frame
    est = BayesianLogisticRegression(
        prior="regularized_horseshoe",
        expected_nonzero=3,
        standardize=True,
        method="nuts",
        random_state=SEED,
        **LOGISTIC_NUTS,
    )
    return quiet(lambda: est.fit(X, y))


# --- the estimators are the library's fit --------------------------------------------------------


def test_linear_horseshoe_is_fit_posterior_bitwise(horseshoe_fit, raw_diabetes_frame):
    X, y = raw_diabetes_frame
    Xa, ya = X.to_numpy(float), y.to_numpy(float)
    fit = quiet(
        lambda: fit_posterior(
            linear_regression_stats,
            SufficientStats.from_data(Xa, ya, center=True),
            observed=(linear_regression, Xa, ya),
            feature_names=list(X.columns),
            seed=estimator_seed(SEED),
            prior=Horseshoe(),
            sigma=noise_prior(ya),
            fit_intercept=True,
            **LINEAR_NUTS,
        )
    )
    est = horseshoe_fit
    posterior = fit.idata.posterior
    np.testing.assert_array_equal(est.coef_, posterior["coef"].mean(("chain", "draw")).to_numpy())
    assert est.intercept_ == float(posterior["intercept"].mean())
    assert est.sigma_ == float(posterior["sigma"].mean())
    np.testing.assert_array_equal(est.idata_.posterior["tau"], posterior["tau"])
    # no MAP, the prior's target_accept, the collapsed form, and no divergence
    assert est.map_ is None and est.n_iter_ is None and fit.map is None
    assert est.prior_ == Horseshoe(SHRINKAGE.global_scale)
    assert not hasattr(est, "alpha_")
    assert est.posterior_fit_.parametrisation == "collapsed"
    assert est.diagnostics_.divergences == 0
    assert est.diagnostics_.max_rhat < 1.02


def test_logistic_regularized_horseshoe_is_fit_posterior_bitwise(logistic_fit, raw_breast_cancer_frame):
    X, y = raw_breast_cancer_frame
    prior = RegularizedHorseshoe(expected_nonzero=3, n_samples=X.shape[0])
    fit = standardized_logistic_posterior(X, y, prior)
    est = logistic_fit
    posterior = est.idata_.posterior
    np.testing.assert_array_equal(posterior["coef_standardized"], fit.idata.posterior["coef"])
    np.testing.assert_array_equal(posterior["slab"], fit.idata.posterior["slab"])
    assert est.prior_ == prior and est.map_ is None and not hasattr(est, "C_")
    assert est.diagnostics_.divergences == 0
    # the probabilities are the posterior's, and they classify as well as the data allow
    assert (est.predict(X) == y).mean() > 0.9


def test_target_accept_defaults_to_the_priors(monkeypatch, raw_diabetes_frame):
    """None reaches `fit_posterior`, which takes the prior's own (0.99 here); a number is passed on."""
    import bayesreg.estimators

    seen = {}

    class Stop(Exception):
        pass

    def record(*args, **kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(bayesreg.estimators, "fit_posterior", record)
    X, y = raw_diabetes_frame
    for target_accept in (None, 0.95):
        with pytest.raises(Stop):
            BayesianLinearRegression(prior="r2d2", method="nuts", target_accept=target_accept).fit(X, y)
        assert seen["target_accept"] == target_accept
    assert bayesreg.sampling.default_target_accept(seen["prior"]) == SHRINKAGE_TARGET_ACCEPT == 0.99
    assert seen["prior"] == R2D2(SHRINKAGE.r2_mean, SHRINKAGE.r2_precision)


def test_defaults_have_one_home():
    """The prior objects' defaults are bayesreg.defaults' (the estimators' None means them)."""
    assert Horseshoe().global_scale == SHRINKAGE.global_scale
    rhs = RegularizedHorseshoe()
    assert (rhs.slab_scale, rhs.slab_df) == (SHRINKAGE.slab_scale, SHRINKAGE.slab_df)
    assert RegularizedHorseshoe.default_expected_nonzero(100) == 100 / SHRINKAGE.weights_per_nonzero
    assert (R2D2().r2_mean, R2D2().r2_precision) == (SHRINKAGE.r2_mean, SHRINKAGE.r2_precision)
    assert Horseshoe.target_accept == SHRINKAGE_TARGET_ACCEPT


# --- predictions, and the model folder -----------------------------------------------------------


def _predictions(est, X) -> list:
    if isinstance(est, BayesianLinearRegression):
        return [est.predict(X), *est.predict(X, return_std=True), est.predict_interval(X)]
    return [est.predict_proba(X), est.predict(X), est.decision_function(X), est.predict_interval(X)]


@pytest.mark.parametrize("which", ["horseshoe_fit", "logistic_fit"])
def test_save_load_predicts_bitwise(which, request, tmp_path):
    est = request.getfixturevalue(which)
    data = request.getfixturevalue(
        "raw_diabetes_frame" if which == "horseshoe_fit" else "raw_breast_cancer_frame"
    )
    X = data[0]
    est.save(tmp_path)
    loaded = bayesreg.load(tmp_path)
    for got, expected in zip(_predictions(loaded, X), _predictions(est, X), strict=True):
        np.testing.assert_array_equal(got, expected)
    # the prior and its options come back exactly: the same object, the same types of number
    assert loaded.prior_ == est.prior_ and type(loaded.prior_) is type(est.prior_)
    for name, value in vars(est.prior_).items():
        assert type(getattr(loaded.prior_, name)) is type(value), name
    assert loaded.get_params() == est.get_params()
    assert loaded.map_ is None and loaded.posterior_fit_.map is None and loaded.n_iter_ is None
    record = json.loads((tmp_path / "model.json").read_text())["fitted"]
    assert record["map_"] is None and record["prior_"]["kind"] == est.prior
    # the predictive draws of the loaded model are those of the fitted one
    rows = X.iloc[:5]
    again, first = loaded.predictive(rows, seed=1), est.predictive(rows, seed=1)
    np.testing.assert_array_equal(again.predictions["y"], first.predictions["y"])


def test_clone_set_params_and_grid_search(raw_diabetes_frame):
    X, y = raw_diabetes_frame
    X, y = X.iloc[:200], y.iloc[:200]
    base = BayesianLinearRegression(
        prior="horseshoe", method="nuts", num_warmup=50, num_samples=50, num_chains=1, random_state=0
    )
    twin = clone(base).set_params(prior="r2d2", r2_mean=0.3)
    assert (twin.prior, twin.r2_mean, twin.global_scale) == ("r2d2", 0.3, None)
    assert clone(twin).get_params() == twin.get_params()
    search = GridSearchCV(base, {"global_scale": [0.1, 1.0]}, cv=KFold(2))
    search = quiet(lambda: search.fit(X, y))
    assert set(search.cv_results_["param_global_scale"]) == {0.1, 1.0}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    assert best.prior_ == Horseshoe(best.global_scale) and best.map_ is None


@pytest.mark.parametrize(
    ("cls", "params", "message"),
    [
        (
            BayesianLinearRegression,
            {"prior": "horseshoe"},
            "prior='horseshoe' has no MAP: its density is unbounded",
        ),
        (BayesianLogisticRegression, {"prior": "r2d2"}, "prior='r2d2' has no MAP"),
        (
            BayesianLinearRegression,
            {"prior": "horseshoe", "method": "nuts", "alpha": 0.5},
            "alpha=0.5 does not apply to prior='horseshoe'",
        ),
        (
            BayesianLinearRegression,
            {"prior": "regularized_horseshoe", "method": "nuts", "alpha": "cv"},
            "alpha='cv' does not apply to prior='regularized_horseshoe'",
        ),
        (
            BayesianLogisticRegression,
            {"prior": "horseshoe", "method": "nuts", "C": 2.0},
            "C=2.0 does not apply",
        ),
        (
            BayesianLinearRegression,
            {"global_scale": 0.5},
            "global_scale applies to prior='horseshoe' or 'regularized_horseshoe', not prior='laplace'",
        ),
        (
            BayesianLinearRegression,
            {"prior": "r2d2", "method": "nuts", "slab_scale": 1.0},
            "slab_scale applies to prior='regularized_horseshoe', not prior='r2d2'",
        ),
        (
            BayesianLogisticRegression,
            {"prior": "horseshoe", "method": "nuts", "r2_mean": 0.3},
            "r2_mean applies to prior='r2d2', not prior='horseshoe'",
        ),
        (BayesianLinearRegression, {"global_scale": -1.0}, "global_scale must be a positive finite number"),
        (BayesianLinearRegression, {"slab_scale": 0}, "slab_scale must be a positive finite number, got 0"),
        (BayesianLinearRegression, {"slab_df": "x"}, "slab_df must be a positive number, got 'x'"),
        (BayesianLinearRegression, {"expected_nonzero": 0.0}, "expected_nonzero must be a positive finite"),
        (
            BayesianLinearRegression,
            {"prior": "regularized_horseshoe", "method": "nuts", "expected_nonzero": 10},
            "expected_nonzero must be below the number of weights (10), got 10",
        ),
        (BayesianLogisticRegression, {"r2_mean": 1.0}, "r2_mean must lie strictly between 0 and 1, got 1.0"),
        (BayesianLogisticRegression, {"r2_precision": -2.0}, "r2_precision must be a positive finite number"),
        (
            BayesianLinearRegression,
            {"prior": "spike_and_slab"},
            "unknown prior 'spike_and_slab'; expected one of",
        ),
    ],
)
def test_bad_settings_named(cls, params, message, raw_diabetes_frame):
    X, y = raw_diabetes_frame
    if cls is BayesianLogisticRegression:
        y = (y > y.median()).astype(int)
    with pytest.raises(ValueError) as error:
        cls(**params).fit(X, y)
    assert message in str(error.value), str(error.value)


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_fit(raw_diabetes_csv, tmp_path_factory, cache_home):
    """``bayesreg fit --prior horseshoe --method nuts`` on the diabetes CSV, with the fixture's
    settings: (exit code, stdout, stderr, model folder)."""
    out = tmp_path_factory.mktemp("sparsity_cli") / "model"
    settings = [f"--{k.replace('_', '-')}={v}" for k, v in LINEAR_NUTS.items()]
    argv = [
        "fit",
        str(raw_diabetes_csv),
        "--target",
        "progression",
        "--prior",
        "horseshoe",
        "--method",
        "nuts",
    ]
    code, stdout, stderr = run([*argv, *settings, "--seed", str(SEED), "--out", str(out)])
    return code, stdout, stderr, out


def test_cli_fit_saves_the_estimators_fit(cli_fit, horseshoe_fit):
    code, stdout, stderr, out = cli_fit
    assert code in (0, 3), stderr  # 3: the short chains' ESS is below the gate's threshold
    assert "Traceback" not in stderr
    assert "horseshoe prior (no MAP" in stdout and "target_accept 0.99" in stdout
    assert "proximal Newton" not in stdout
    loaded = bayesreg.load(out)
    # the CLI's seed 0 is the estimator's random_state 0: the same posterior, bitwise
    assert loaded.prior_ == horseshoe_fit.prior_
    np.testing.assert_array_equal(loaded.coef_, horseshoe_fit.coef_)
    table = pd.read_csv(out / "coefficients.csv").set_index("feature")
    np.testing.assert_array_equal(table.loc[list(loaded.feature_names_in_), "coefficient"], loaded.coef_)
    assert table.loc["intercept", "coefficient"] == loaded.intercept_


def test_cli_predict_round_trip(cli_fit, raw_diabetes_csv, raw_diabetes_frame, tmp_path):
    out = cli_fit[3]
    predicted = tmp_path / "predicted"
    code, _, stderr = run(["predict", str(out), str(raw_diabetes_csv), "--out", str(predicted)])
    assert code in (0, 3) and "Traceback" not in stderr, stderr
    table = pd.read_csv(predicted / "predictions.csv")
    loaded = bayesreg.load(out)
    mean, sd = loaded.predict(raw_diabetes_frame[0], return_std=True)
    np.testing.assert_array_equal(table["mean"].to_numpy(), mean)
    np.testing.assert_array_equal(table["sd"].to_numpy(), sd)
