"""`compare_priors` against ArviZ's `az.compare` and against a K-fold loop written here.

* Real data (scikit-learn's diabetes, unscaled, as loaded): the table of `compare_priors` (pointwise
  LOO values kept in blocks, `bayesreg.loo`) equals ``az.compare`` of the same fits run again with
  their full log-likelihood (``log_likelihood=True``: ArviZ's own ``az.loo``) to 1e-10, the same
  draws bit for bit; and a Laplace prior at a huge fixed α (every weight shrunk to 0) predicts
  worse than the α LassoCV picks, by more than 4 standard errors of the difference.
* The K-fold fallback: on data with an outlier (Pareto k̂ above ArviZ's threshold), the row's elpd is
  the K-fold one, equal to a loop over the same shuffled ``KFold`` written here (same seed for every
  refit; held-out densities by ``scipy.stats.norm``) exactly; the logistic model's against
  ``StratifiedKFold`` and ``scipy.stats.bernoulli`` on breast-cancer rows.
* Clear errors before any fit: an empty list, an unknown name, a name twice, something that is not
  a prior, an estimator of the other family, a bad setting.
* `plot_compare` draws ArviZ's comparison plot and labels the K-fold and failed rows.
"""

import html
import warnings

import arviz as az
import numpy as np
import pytest
from scipy.special import expit, logsumexp
from scipy.stats import bernoulli, norm
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import KFold, StratifiedKFold

from bayesreg.estimators import BayesianLinearRegression, BayesianLogisticRegression
from bayesreg.prior_comparison import PRIOR_NAMES, compare_priors, plot_compare

NUTS = {"num_warmup": 300, "num_samples": 250, "num_chains": 2, "seed": 1}
ARVIZ_COLUMNS = ["rank", "elpd_loo", "p_loo", "elpd_diff", "weight", "se", "dse", "warning", "scale"]
TOLERANCE = 1e-10


def _quiet(**kwargs):
    """`compare_priors` with the diagnostics warnings of short chains silenced (the table keeps them
    in ``diagnostics_ok``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compare_priors(**kwargs)


def _diabetes_priors():
    return {
        "gaussian": "gaussian",
        "laplace cv": BayesianLinearRegression(prior="laplace", alpha="cv"),
        "laplace huge": BayesianLinearRegression(prior="laplace", alpha=1e4),
    }


@pytest.fixture(scope="module")
def unscaled_diabetes():
    X, y = load_diabetes(return_X_y=True, as_frame=True, scaled=False)
    return X, y


@pytest.fixture(scope="module")
def diabetes_comparison(unscaled_diabetes):
    X, y = unscaled_diabetes
    return _quiet(X=X, y=y, priors=_diabetes_priors(), kfold="none", **NUTS)


@pytest.fixture(scope="module")
def diabetes_full_loglik(unscaled_diabetes):
    X, y = unscaled_diabetes
    return _quiet(X=X, y=y, priors=_diabetes_priors(), kfold="none", log_likelihood=True, **NUTS)


def test_table_equals_arviz_compare_on_the_full_log_likelihood(diabetes_comparison, diabetes_full_loglik):
    ours = diabetes_comparison
    for name, fitted in diabetes_full_loglik.fits.items():  # the same draws, kept in full this time
        assert (
            "log_likelihood" in fitted.idata_.groups()
            and "log_likelihood" not in ours.fits[name].idata_.groups()
        )
        np.testing.assert_array_equal(
            fitted.idata_.posterior["coef"], ours.fits[name].idata_.posterior["coef"]
        )
    reference = az.compare({name: fitted.idata_ for name, fitted in diabetes_full_loglik.fits.items()})
    table = ours.table
    assert table.index.tolist() == reference.index.tolist()
    for column in ("rank", "warning", "scale"):
        assert table[column].tolist() == reference[column].tolist(), column
    numbers = ["elpd_loo", "p_loo", "elpd_diff", "weight", "se", "dse"]
    np.testing.assert_allclose(
        table[numbers].to_numpy(float), reference[numbers].to_numpy(float), rtol=0, atol=TOLERANCE
    )
    assert table.columns.tolist() == [
        *ARVIZ_COLUMNS,
        "elpd_method",
        "pareto_k_high",
        "pareto_k_max",
        "diagnostics_ok",
    ]
    assert set(table["elpd_method"]) == {"psis-loo"}
    for name in table.index:  # the k̂ counts are those of ArviZ's loo on the full log-likelihood
        full = az.loo(diabetes_full_loglik.fits[name].idata_, pointwise=True)
        assert table.loc[name, "pareto_k_high"] == int(np.sum(full["pareto_k"].values > full["good_k"]))
        np.testing.assert_allclose(table.loc[name, "pareto_k_max"], full["pareto_k"].max(), atol=1e-10)
        assert table.loc[name, "diagnostics_ok"] == bool(ours.fits[name].diagnostics_.ok)


def test_huge_fixed_alpha_predicts_worse_than_cross_validated_alpha(diabetes_comparison, unscaled_diabetes):
    fits, elpd = diabetes_comparison.fits, diabetes_comparison.elpd
    assert np.all(fits["laplace huge"].map_.params["coef"] == 0)  # the intercept-only model
    assert fits["laplace cv"].alpha_ < 1.0  # LassoCV's α on these columns, far below 1e4
    difference = elpd["laplace cv"]["loo_i"].values - elpd["laplace huge"]["loo_i"].values
    se = np.sqrt(len(difference) * np.var(difference))
    assert difference.sum() > 4 * se
    table = diabetes_comparison.table
    assert table.loc["laplace cv", "rank"] < table.loc["laplace huge", "rank"]


# --- the K-fold fallback ------------------------------------------------------------------------------


def _with_outlier():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 3))
    y = X @ np.array([1.0, -1.0, 0.0]) + 0.5 * rng.normal(size=30)
    y[0] += 6.0  # an observation PSIS cannot leave out: k̂ > 0.7
    return X, y


@pytest.fixture(scope="module")
def outlier_comparison():
    X, y = _with_outlier()
    return _quiet(X=X, y=y, priors=["gaussian"], alpha=0.01, n_splits=5, **NUTS)


def test_kfold_replaces_loo_where_pareto_k_is_high(outlier_comparison):
    row = outlier_comparison.table.loc["gaussian"]
    full = outlier_comparison.loo["gaussian"]
    assert full["warning"] and row["pareto_k_high"] > 0 and row["pareto_k_max"] > full["good_k"]
    assert row["elpd_method"] == "kfold-5" and not row["warning"]
    kfold = outlier_comparison.elpd["gaussian"]
    assert kfold["elpd_loo"] != full["elpd_loo"]
    np.testing.assert_allclose(
        kfold["p_loo"], full["elpd_loo"] + full["p_loo"] - kfold["elpd_loo"], atol=1e-10
    )


def test_kfold_equals_a_refit_loop_on_the_same_folds(outlier_comparison):
    X, y = _with_outlier()
    seed = NUTS["seed"]
    by_hand = np.empty(len(y))
    for train, test in KFold(n_splits=5, shuffle=True, random_state=seed).split(X):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = BayesianLinearRegression(prior="gaussian", alpha=0.01, method="nuts", random_state=seed)
            est.set_params(**{k: v for k, v in NUTS.items() if k != "seed"}).fit(X[train], y[train])
        post = est.idata_.posterior
        coef = post["coef"].to_numpy().reshape(-1, X.shape[1])
        mean = post["intercept"].to_numpy().reshape(-1, 1) + coef @ X[test].T
        log_density = norm.logpdf(y[test], loc=mean, scale=post["sigma"].to_numpy().reshape(-1, 1))
        by_hand[test] = logsumexp(log_density, axis=0) - np.log(log_density.shape[0])
    kfold = outlier_comparison.elpd["gaussian"]
    np.testing.assert_allclose(kfold["loo_i"].values, by_hand, rtol=1e-12, atol=0)
    np.testing.assert_allclose(
        outlier_comparison.table.loc["gaussian", "elpd_loo"], by_hand.sum(), rtol=1e-12
    )
    np.testing.assert_allclose(kfold["se"], np.sqrt(len(y) * np.var(by_hand)), rtol=1e-12)


def test_logistic_kfold_equals_a_stratified_refit_loop():
    X, y = load_breast_cancer(return_X_y=True)
    rows = np.random.default_rng(0).choice(len(y), size=120, replace=False)
    X, labels = X[rows][:, [0, 1, 4]], np.where(y[rows] == 1, "benign", "malignant")  # unscaled columns
    result = _quiet(
        X=X, y=labels, priors=["gaussian"], family="bernoulli", C=0.5, kfold="all", n_splits=3, **NUTS
    )
    assert result.table.loc["gaussian", "elpd_method"] == "kfold-3"
    target = (labels == "malignant").astype(float)  # the indicator of the second class, sorted
    seed = NUTS["seed"]
    by_hand = np.empty(len(target))
    for train, test in StratifiedKFold(n_splits=3, shuffle=True, random_state=seed).split(X, target):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = BayesianLogisticRegression(prior="gaussian", C=0.5, method="nuts", random_state=seed)
            est.set_params(**{k: v for k, v in NUTS.items() if k != "seed"}).fit(X[train], target[train])
        post = est.idata_.posterior
        eta = post["intercept"].to_numpy().reshape(-1, 1) + post["coef"].to_numpy().reshape(-1, 3) @ X[test].T
        log_density = bernoulli.logpmf(target[test], expit(eta))
        by_hand[test] = logsumexp(log_density, axis=0) - np.log(log_density.shape[0])
    np.testing.assert_allclose(result.elpd["gaussian"]["loo_i"].values, by_hand, rtol=1e-10, atol=0)


# --- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priors", "options", "error", "message"),
    [
        ([], {}, ValueError, "priors is empty"),
        ({}, {}, ValueError, "priors is empty"),
        (["laplace", "cauchy"], {}, ValueError, "unknown prior 'cauchy'; expected one of laplace|gaussian"),
        (["laplace", "laplace"], {}, ValueError, "duplicate name 'laplace'"),
        (
            [BayesianLinearRegression(alpha=2.0), BayesianLinearRegression(alpha=2.0)],
            {},
            ValueError,
            r"duplicate name 'laplace \(alpha=2.0\)'",
        ),
        ("laplace", {}, TypeError, "priors must be a list"),
        ([3.0], {}, TypeError, "cannot compare 3.0"),
        ([BayesianLogisticRegression()], {}, TypeError, "cannot compare BayesianLogisticRegression"),
        (["laplace"], {"kfold": "sometimes"}, ValueError, "unknown kfold 'sometimes'"),
        (["laplace"], {"n_splits": 1}, ValueError, "n_splits must be at least 2"),
        (["laplace"], {"n_splits": 50}, ValueError, r"n_splits must be at most the number of rows \(30\)"),
        (["laplace"], {"family": "poisson"}, ValueError, "unknown family 'poisson'"),
    ],
)
def test_clear_errors_before_any_fit(priors, options, error, message):
    X, y = _with_outlier()
    with pytest.raises(error, match=message):
        compare_priors(X, y, priors, **options)


def test_names():
    assert PRIOR_NAMES[:3] == ("gaussian", "laplace", "elasticnet")
    assert {"horseshoe", "regularized_horseshoe", "r2d2"} <= set(PRIOR_NAMES)


# --- the plot -----------------------------------------------------------------------------------------


def test_plot_compare_labels_kfold_and_failed_rows(diabetes_comparison, outlier_comparison):
    from matplotlib.figure import Figure

    ax = plot_compare(diabetes_comparison, ax=Figure().subplots())
    labels = [label.get_text() for label in ax.get_yticklabels() if label.get_text()]
    table = diabetes_comparison.table
    expected = [
        name if ok else f"{name} (diagnostics failed)" for name, ok in table["diagnostics_ok"].items()
    ]
    assert labels == expected
    # the elpd of each row with its se, and each other row's difference to the best with its dse, as
    # ArviZ draws them
    elpd, difference = (np.asarray(c.lines[0].get_xdata(), float) for c in ax.containers[:2])
    np.testing.assert_allclose(elpd, table["elpd_loo"].to_numpy(float))
    best = table["elpd_loo"].iloc[0]
    np.testing.assert_allclose(difference, best - table["elpd_diff"].to_numpy(float)[1:])
    bars = np.asarray(ax.containers[0].lines[2][0].get_segments())
    np.testing.assert_allclose(bars[:, 1, 0] - bars[:, 0, 0], 2 * table["se"].to_numpy(float))

    table = outlier_comparison.table.copy()
    table.loc["gaussian", "diagnostics_ok"] = True
    ax = plot_compare(table, ax=Figure().subplots())
    assert [label.get_text() for label in ax.get_yticklabels()] == ["gaussian (K-fold)"]


# --- the demo's sections ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def learned_demo():
    from bayesreg.demo import run_demo

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_demo(posterior=False, path=False, learned=True)


def test_demo_sets_the_fixed_alpha_beside_the_learned_ones(learned_demo):
    """The α of ``alpha="cv"`` and ``alpha="eb"`` against scikit-learn's own choices, computed here."""
    from sklearn.linear_model import BayesianRidge, Lasso, LassoCV, RidgeCV

    X, y = load_diabetes(return_X_y=True)
    table = learned_demo.learned.table
    assert table.index.tolist() == ["fixed", "cv", "eb"]
    assert table.loc["fixed", "laplace"] == learned_demo.lasso_alpha
    assert table.loc["fixed", "gaussian"] == learned_demo.ridge_alpha
    np.testing.assert_allclose(table.loc["cv", "laplace"], LassoCV().fit(X, y).alpha_, rtol=1e-9)
    ridge_cv = RidgeCV(alphas=(0.1, 1.0, 10.0), cv=KFold(5)).fit(X, y)
    np.testing.assert_allclose(table.loc["cv", "gaussian"], ridge_cv.alpha_, rtol=1e-12)
    evidence = BayesianRidge().fit(X, y)
    np.testing.assert_allclose(table.loc["eb", "gaussian"], evidence.lambda_ / evidence.alpha_, rtol=1e-6)
    assert table.loc["eb", "laplace_mcse"] > 0 and np.isnan(table.loc["eb", "laplace_reference"])
    for how in table.index:  # the Lasso's support at each α
        lasso = Lasso(alpha=table.loc[how, "laplace"], tol=1e-12, max_iter=100_000).fit(X, y)
        assert table.loc[how, "laplace_nonzero"] == np.count_nonzero(lasso.coef_), how


def test_demo_report_has_the_learned_alpha_and_the_comparison(learned_demo, diabetes_comparison):
    from bayesreg.demo import ComparisonDemo
    from bayesreg.report import demo_report, demo_sections

    settings = {
        "num_warmup": NUTS["num_warmup"],
        "num_samples": NUTS["num_samples"],
        "num_chains": 2,
        "seed": 1,
    }
    result = learned_demo._replace(comparison=ComparisonDemo(diabetes_comparison, settings))
    sections = {section.title: section.html for section in demo_sections(result)}
    learned = sections["α learned from the data"]
    table = learned_demo.learned.table
    assert f"α = <b>{table.loc['cv', 'laplace']:.4g}</b>" in learned
    assert learned.count('<span class="ok">yes</span>') == 2  # LassoCV's and BayesianRidge's α
    compared = sections["Which prior predicts best"]
    best = diabetes_comparison.table.index[0]
    assert f"<b>{best}</b>\npredicts best" in compared or f"<b>{best}</b> predicts best" in compared
    assert "data:image/png;base64," in compared
    for name, ok in diabetes_comparison.table["diagnostics_ok"].items():
        assert f"<td>{name}</td>" in compared
        assert (name in compared.split("failed the diagnostics gate")[-1]) != ok
    # a fit of the comparison that failed its diagnostics puts its problems in the banner at the top
    page = demo_report(result)
    failed = [fit for fit in diabetes_comparison.fits.values() if not fit.diagnostics_.ok]
    assert failed, "the short chains of these fits fail the gate"
    banner = page[page.index('<div class="gate"') : page.index("</div>")]
    for fit in failed:
        for problem in fit.diagnostics_.problems:
            assert html.escape(str(problem)) in banner
