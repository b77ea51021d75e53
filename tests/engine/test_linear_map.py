"""`linear_map`: the Gaussian linear model's MAP from its sufficient statistics, on the host.

Checked against what does not share its code: scikit-learn's Lasso and Ridge (certified references,
`references.sklearn_linear`, 1e-6 per coefficient and the same exact zeros) on data in their own
units, the mode in σ of the negative log joint written with scipy.stats and minimised by scipy, and
the compiled solver `map_estimate` of the same model. A fresh process fitting the estimator
compiles nothing (the first call's cost was XLA's compilation).
"""

import json
import subprocess
import sys

import numpy as np
import numpyro.distributions as dist
import pytest
from references import assert_map_equal, sklearn_linear
from scipy import optimize, stats
from sklearn.datasets import load_diabetes

import bayesreg.engine.map as map_module
from bayesreg import map_estimate, prior_from_penalty
from bayesreg.engine.map import linear_map
from bayesreg.models import SufficientStats, linear_regression_stats


@pytest.fixture(scope="module")
def diabetes_raw():
    """scikit-learn's diabetes data as users load it, in its own units (``scaled=False``)."""
    X, y = load_diabetes(return_X_y=True, scaled=False)
    return np.asarray(X, dtype=float), np.asarray(y, dtype=float)


@pytest.fixture(scope="module")
def unscaled(diabetes_raw):
    """The same columns in units from 1e-3 to 1e3 (sds from about 5e-4 to 8e4)."""
    X, y = diabetes_raw
    return X * np.logspace(-3, 3, X.shape[1]), y


@pytest.fixture(scope="module")
def wide():
    """p > n: 30 rows, 80 columns, 4 non-zero true weights."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 80))
    y = -1.0 + X[:, [2, 9, 40, 71]] @ np.array([2.0, -1.5, 1.0, 0.5]) + 0.3 * rng.normal(size=30)
    return X, y


@pytest.fixture
def host_only(monkeypatch):
    """`linear_map` may not fall back to the compiled `map_estimate` while this is in use."""

    def refuse(*args, **kwargs):
        raise AssertionError("linear_map fell back to map_estimate")

    monkeypatch.setattr(map_module, "map_estimate", refuse)


def _alphas(kind, X, y, fit_intercept):
    Xc, yc = (X - X.mean(axis=0), y - y.mean()) if fit_intercept else (X, y)
    if kind == "gaussian":  # relative to the columns' own scale, from strong to weak
        unit = np.trace(Xc.T @ Xc) / X.shape[1]
        return [f * unit for f in (1.0, 1e-2, 1e-4)]
    amax = np.max(np.abs(Xc.T @ yc)) / X.shape[0]
    return [f * amax for f in (0.3, 0.05, 0.01, 1e-3)]


@pytest.mark.parametrize("data", ["diabetes_raw", "unscaled", "wide"])
@pytest.mark.parametrize("kind", ["laplace", "gaussian"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_linear_map_is_certified_sklearn_on_the_host(request, host_only, data, kind, fit_intercept):
    """Lasso / Ridge at each α, σ fixed (1.0 and 3.7) and estimated, without a compiled program."""
    X, y = request.getfixturevalue(data)
    n = X.shape[0]
    stats_ = SufficientStats.from_data(X, y, center=fit_intercept)
    for alpha in _alphas(kind, X, y, fit_intercept):
        reference = sklearn_linear(kind, X, y, alpha, fit_intercept=fit_intercept)
        prior = prior_from_penalty(kind, alpha, n_samples=n)
        for sigma in (1.0, 3.7, dist.Exponential(1.0 / np.std(y))):
            result = linear_map(stats_, prior=prior, sigma=sigma, fit_intercept=fit_intercept)
            label = f"{data} {kind} alpha={alpha:.4g} sigma={sigma} fit_intercept={fit_intercept}"
            assert result.converged and result.residual <= 1e-10, label
            assert ("intercept" in result.params) == fit_intercept, label
            intercept = result.params.get("intercept", 0.0)
            assert_map_equal(
                result.params["coef"], intercept, reference.coef, reference.intercept, label=label
            )


def _negative_log_joint_in_sigma(X, y, coef, intercept, prior, rate):
    """``−log p(y, w, σ)`` as a function of σ at fixed weights, from scipy.stats densities."""

    def f(sigma):
        l1, l2 = prior.rates(sigma)
        if prior.kind == "laplace":
            log_prior = stats.laplace.logpdf(coef, scale=1.0 / l1).sum()
        else:
            log_prior = stats.norm.logpdf(coef, scale=1.0 / np.sqrt(l2)).sum()
        log_likelihood = stats.norm.logpdf(y, loc=intercept + X @ coef, scale=sigma).sum()
        return -(log_likelihood + log_prior + stats.expon.logpdf(sigma, scale=1.0 / rate))

    return f


@pytest.mark.parametrize(
    "kind, alpha", [("laplace", 0.05), ("laplace", 1.0), ("gaussian", 1e3), ("gaussian", 10.0)]
)
@pytest.mark.parametrize("convention", ["sklearn", "book"])
def test_sigma_is_the_mode_of_the_joint_and_the_weights_are_sklearn_at_it(
    diabetes_raw, host_only, kind, alpha, convention
):
    """σ̂ minimises the negative log joint over σ (scipy's bounded scalar minimiser on scipy.stats
    densities), and the weights are the penalised estimate at the rates in force at σ̂: for the
    book convention the rates do not scale with σ, so the weights depend on σ̂ and the rounds must
    have settled on a joint mode."""
    X, y = diabetes_raw
    n = X.shape[0]
    rate = 1.0 / np.std(y)
    prior = prior_from_penalty(kind, alpha, n_samples=n, convention=convention)
    result = linear_map(SufficientStats.from_data(X, y), prior=prior, sigma=dist.Exponential(rate))
    coef, intercept, sigma = (float(v) if v.ndim == 0 else v for v in result.params.values())
    f = _negative_log_joint_in_sigma(X, y, coef, intercept, prior, rate)
    found = optimize.minimize_scalar(
        f, bounds=(0.2 * sigma, 5 * sigma), method="bounded", options={"xatol": 1e-12}
    )
    assert sigma == pytest.approx(found.x, rel=1e-6)
    # the weights at σ̂: Lasso with n·α' = λ₁(σ̂)·σ̂², Ridge with α' = λ₂(σ̂)·σ̂²
    l1, l2 = prior.rates(sigma)
    equivalent = l1 * sigma**2 / n if kind == "laplace" else l2 * sigma**2
    reference = sklearn_linear(kind, X, y, equivalent)
    assert_map_equal(coef, intercept, reference.coef, reference.intercept, label=f"{kind} {convention}")


@pytest.mark.parametrize("kind", ["laplace", "gaussian", "elasticnet"])
@pytest.mark.parametrize("convention", ["sklearn", "book"])
def test_linear_map_is_map_estimate(unscaled, kind, convention):
    """The host result and the compiled solver's agree to round-off (1e-9), zeros included; the
    elastic net with σ estimated is `map_estimate` itself."""
    X, y = unscaled
    stats_ = SufficientStats.from_data(X, y)
    prior = prior_from_penalty(kind, 0.5, n_samples=X.shape[0], convention=convention)
    sigma = dist.Exponential(1.0 / np.std(y))
    host = linear_map(stats_, prior=prior, sigma=sigma)
    compiled = map_estimate(linear_regression_stats, stats_, prior=prior, sigma=sigma)
    assert sorted(host.params) == sorted(compiled.params)
    for site, value in compiled.params.items():
        np.testing.assert_allclose(host.params[site], value, rtol=1e-9, atol=1e-12, err_msg=site)
    assert np.array_equal(host.params["coef"] == 0, compiled.params["coef"] == 0)
    if kind == "elasticnet":
        assert host.num_steps == compiled.num_steps


def test_the_estimator_fit_compiles_nothing_in_a_fresh_process():
    """The MAP the estimator fits (lasso and ridge, σ estimated, validation included) runs no XLA
    compilation in a new process: JAX's compile events stay at zero."""
    script = """
import json, jax.monitoring, numpy as np
from bayesreg import BayesianLinearRegression
events = []
jax.monitoring.register_event_duration_secs_listener(
    lambda event, duration, **kw: events.append(event) if "compile" in event else None
)
rng = np.random.default_rng(0)
X = rng.normal(size=(300, 12)) * np.logspace(-3, 3, 12)
y = 2.0 + X @ (rng.normal(size=12) / np.logspace(-3, 3, 12)) + rng.normal(size=300)
fits = [BayesianLinearRegression(prior=kind).fit(X, y) for kind in ("laplace", "gaussian")]
print(json.dumps({"events": events, "converged": [bool(f.map_.converged) for f in fits]}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report == {"events": [], "converged": [True, True]}
