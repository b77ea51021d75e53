"""The direct chains sample the weights of unit-scale columns: an exact change of variables.

* The change of variables is exact: the log density of the preconditioned model at the mapped
  values equals the original model's minus ``Σ log scale`` (the constant log-Jacobian; 0 under a
  flat prior), for the
  linear model (per row and from its statistics), the logistic model, each prior kind (per-feature
  rates included), with and without an intercept; the MAP of the preconditioned model, mapped
  back, is the original model's.
* Units do not matter, with default settings: scikit-learn's breast-cancer data (569 × 30) once
  standardised and once with its columns multiplied by 1e-3 … 1e5, under the same prior on the
  standardised columns' weights (a per-feature Gaussian precision), give the same logistic
  posterior of ``coef_j·factor_j`` and the intercept (means, sds and 10/50/90% quantiles within 4
  combined Monte Carlo standard errors, ArviZ's), each run with R-hat ≤ 1.01, bulk ESS ≥ 400 and
  0 divergences. The same for the linear model from its sufficient statistics, sampled directly
  (not collapsed) under an elastic-net prior, σ sampled, on the diabetes data.
"""

import arviz as az
import jax
import numpy as np
import pytest
from numpyro.infer.util import log_density
from references import assert_same_posterior
from sklearn.datasets import load_breast_cancer

from bayesreg.defaults import THRESHOLDS
from bayesreg.engine.map import map_estimate
from bayesreg.models import SufficientStats, linear_regression, linear_regression_stats, logistic_regression
from bayesreg.priors import Prior, noise_prior
from bayesreg.sampling import Preconditioning, fit_posterior

UNITS = (1e-3, 1e5)  # column j multiplied by a factor between these (log-spaced)


# --- the change of variables is exact --------------------------------------------------------------


def _design(n=40, p=4, seed=0):
    """Columns in units from 1e-3 to 1e4, with means far from 0, and a 0/1 target."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * np.logspace(-3, 4, p) + np.logspace(-2, 5, p)
    y = (rng.random(n) < 0.4).astype(float)
    return X, y


PRIORS = {
    "laplace": Prior("laplace", l1=np.array([0.5, 2.0, 1.0, 3.0])),
    "gaussian": Prior("gaussian", l2=1.5, noise_scaled=True),
    "elasticnet": Prior("elasticnet", l1=0.7, l2=np.array([1.0, 0.2, 3.0, 0.5])),
    "flat": None,
}


@pytest.mark.parametrize("form", ["rows", "stats", "logistic"])
@pytest.mark.parametrize("prior", PRIORS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_log_density_differs_by_the_log_jacobian(x64, form, prior, fit_intercept):
    X, y = _design()
    model, args = {
        "rows": (linear_regression, (X, y)),
        "stats": (linear_regression_stats, (SufficientStats.from_data(X, y, center=fit_intercept),)),
        "logistic": (logistic_regression, (X, y)),
    }[form]
    kwargs = {"prior": PRIORS[prior], "fit_intercept": fit_intercept}
    if form != "logistic":
        kwargs["sigma"] = 0.7
    pre = Preconditioning.of(model, args, kwargs)
    assert np.all(pre.scale > 0)
    assert np.any(pre.mean != 0) == fit_intercept
    args_z, kwargs_z = pre.data(args), pre.model_kwargs(kwargs)
    rng = np.random.default_rng(1)
    # a flat prior is flat in z too (numpyro's ImproperUniform has log density 0 either way)
    jacobian = np.sum(np.log(pre.scale)) if PRIORS[prior] is not None else 0.0
    for _ in range(3):
        params = {"coef": rng.normal(size=X.shape[1]) / pre.scale}
        if fit_intercept:
            params["intercept"] = np.asarray(rng.normal())
        original = log_density(model, args, kwargs, params)[0]
        sampled = log_density(model, args_z, kwargs_z, pre.to_sampled(params))[0]
        np.testing.assert_allclose(sampled, original - jacobian, rtol=1e-11, atol=1e-8)
        back = pre.to_original(jax.tree.map(lambda v: np.asarray(v)[None, None], pre.to_sampled(params)))
        np.testing.assert_allclose(back["coef"][0, 0], params["coef"], rtol=1e-12)


def test_preconditioned_map_is_the_map(x64):
    """The MAP of the model on the preconditioned columns, mapped back, is the original model's."""
    X, y = _design(n=200, seed=3)
    kwargs = {"prior": Prior("elasticnet", l1=np.array([0.5, 2.0, 1.0, 3.0]), l2=0.3)}
    pre = Preconditioning.of(logistic_regression, (X, y), kwargs)
    original = map_estimate(logistic_regression, X, y, **kwargs).params
    sampled = map_estimate(logistic_regression, *pre.data((X, y)), **pre.model_kwargs(kwargs)).params
    back = pre.to_original({k: np.asarray(v) for k, v in sampled.items()})
    # compared as weights of the unit-scale columns (the original ones span 7 orders of magnitude)
    np.testing.assert_allclose(back["coef"] * pre.scale, original["coef"] * pre.scale, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(back["intercept"], original["intercept"], rtol=1e-6, atol=1e-9)


def test_other_models_and_priors_are_not_preconditioned():
    X, y = _design()
    assert Preconditioning.of(lambda X, y=None: None, (X, y), {}) is None
    assert Preconditioning.of(linear_regression, (X, y), {"prior": "horseshoe"}) is None


# --- units do not matter, default settings ---------------------------------------------------------


def _scalars(fit, factors):
    """``coef_j·factor_j`` (the weight of standardised column j), the intercept and σ if sampled."""
    post = fit.idata.posterior
    coef = post["coef"].to_numpy() * factors
    others = [name for name in ("intercept", "sigma") if name in post]
    return {f"coef[{j}]": coef[..., j] for j in range(coef.shape[-1])} | {
        name: post[name].to_numpy() for name in others
    }


def _assert_converged(fit):
    idata = fit.idata
    names = [name for name in ("coef", "intercept", "sigma") if name in idata.posterior]
    rhat = az.rhat(idata, var_names=names)
    ess = az.ess(idata, var_names=names, method="bulk")
    assert max(float(rhat[k].max()) for k in names) <= THRESHOLDS.rhat_max
    assert min(float(ess[k].min()) for k in names) >= THRESHOLDS.ess_min
    assert int(idata.sample_stats["diverging"].sum()) == 0


def _two_units(X, fit):
    """``fit(design, factors)`` on the standardised columns and on them times 1e-3 … 1e5, each
    checked for convergence and mapped to the standardised columns' weights."""
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    ones, factors = np.ones(X.shape[1]), np.logspace(*np.log10(UNITS), X.shape[1])
    standard, rescaled = fit(Xs, ones, seed=1), fit(Xs * factors, factors, seed=2)
    for each in (standard, rescaled):
        assert each.parametrisation == "direct"
        _assert_converged(each)
    return _scalars(standard, ones), _scalars(rescaled, factors)


def test_logistic_rescaled_columns_give_the_same_posterior():
    """All 30 columns, default settings (4 × (500 + 1000), 31 parameters: a diagonal mass matrix);
    the prior is ``LogisticRegression(C=1)``'s penalty on the standardised columns' weights."""
    X, y = load_breast_cancer(return_X_y=True)

    def fit(design, factors, seed):
        prior = Prior("gaussian", l2=factors**2)  # Normal(0, 1) on coef_j·factor_j
        return fit_posterior(logistic_regression, design, y, prior=prior, seed=seed, progress_bar=False)

    assert_same_posterior(*_two_units(X, fit))


def test_linear_direct_elasticnet_rescaled_columns_give_the_same_posterior(diabetes):
    """The linear model from its statistics, sampled directly (the density, not the collapsed form),
    elastic-net prior in scikit-learn's convention (α = 0.05, l1_ratio = 0.5 on the standardised
    columns), σ sampled."""
    X, y = diabetes
    n = len(y)

    def fit(design, factors, seed):
        prior = Prior("elasticnet", l1=n * 0.025 * factors, l2=n * 0.025 * factors**2, noise_scaled=True)
        return fit_posterior(
            linear_regression_stats,
            SufficientStats.from_data(design, y),
            observed=(linear_regression, design, y),
            prior=prior,
            sigma=noise_prior(y),
            laplace_parametrisation="direct",
            seed=seed,
            progress_bar=False,
        )

    assert_same_posterior(*_two_units(X, fit))
