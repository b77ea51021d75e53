"""The exact MAP of the Poisson, negative binomial and Student-t models equals the penalised fits of
glum, scikit-learn and statsmodels under the conventions of `bayesreg.priors` (each coefficient to
1e-6 of its own size, the same exact zeros), on unscaled real data and a p > n case.

Every reference is certified (tests/references.py): the library gives the support and signs, Newton's
method on that support solves the stationarity equations to round-off, and the KKT conditions are
checked there. The data sets are loaded once per module; each MAP program is compiled once per data
shape and model.
"""

import warnings

import jax
import numpy as np
import numpyro.distributions as dist
import pytest
import statsmodels.api as sm
from numpyro.distributions import constraints
from references import (
    assert_map_equal,
    certify_glm,
    glm_rates,
    glum_glm,
    nb_lasso_with_dispersion_prior,
    sklearn_linear,
    sklearn_poisson,
    statsmodels_glm,
    statsmodels_l1,
    student_t_lasso,
)
from sklearn.datasets import load_diabetes, load_linnerud
from sklearn.exceptions import ConvergenceWarning

from bayesreg.engine.arrays import as_arrays, split_static
from bayesreg.engine.glm import glm_map
from bayesreg.engine.map import map_estimate, solve, solve_given
from bayesreg.models import (
    logistic_regression,
    negative_binomial_regression,
    poisson_regression,
    student_t_regression,
)
from bayesreg.priors import penalty_from_prior, prior_from_penalty

DISPERSION = 0.8  # the negative binomial's fixed α (Var = μ + αμ²): glum's theta, statsmodels' alpha
MODELS = {"poisson": poisson_regression, "negative_binomial": negative_binomial_regression}
PENALTIES = {"laplace": 1.0, "elasticnet": 0.5, "gaussian": 0.0}  # kind: l1_ratio


def _load():
    """name -> (X, y, offset): unscaled, as users load them."""
    randhie = sm.datasets.randhie.load_pandas().data  # RAND health insurance: doctor visits
    fair = sm.datasets.fair.load_pandas().data  # extramarital affairs (a rate per year: rounded)
    linnerud = load_linnerud(as_frame=True)  # chin-ups against weight, waist and pulse (20 men)
    rng = np.random.default_rng(0)  # p > n: 40 rows, 80 columns, 4 of them in the rate
    X_wide = rng.normal(size=(40, 80))
    y_wide = rng.poisson(np.exp(0.5 + X_wide[:, :4] @ np.array([0.8, -0.6, 0.5, 0.4]))).astype(float)
    affairs = np.round(fair.affairs.to_numpy())
    return {
        "randhie": (randhie.drop(columns="mdvis").to_numpy(float), randhie.mdvis.to_numpy(float), None),
        "fair": (fair.drop(columns="affairs").to_numpy(float), affairs, None),
        # affairs per year of marriage: the years are the exposure, log(years) the offset
        "fair_exposure": (
            fair.drop(columns=["affairs", "yrs_married"]).to_numpy(float),
            affairs,
            np.log(fair.yrs_married.to_numpy(float)),
        ),
        "linnerud": (linnerud.target.to_numpy(float), linnerud.data.Chins.to_numpy(float), None),
        "wide": (X_wide, y_wide, None),
    }


@pytest.fixture(scope="module")
def count_data():
    return _load()


def _alpha_max(X, y):
    """The smallest L1 strength (glum's / statsmodels' α) at which every weight is 0: at ``w = 0`` the
    intercept-only fit has mean ``ȳ`` (without an offset), so the gradient is ``Xᵀ(ȳ − y)``."""
    return np.max(np.abs(X.T @ (y - y.mean()))) / X.shape[0]


def _map(family, X, y, offset, kind, alpha, l1_ratio, convention="glum"):
    prior = prior_from_penalty(
        kind, alpha, l1_ratio=l1_ratio, convention=convention, family=family, n_samples=X.shape[0]
    )
    extra = {"dispersion": DISPERSION} if family == "negative_binomial" else {}
    result = map_estimate(MODELS[family], X, y, prior=prior, offset=offset, **extra)
    assert result.converged, result
    return result.params["coef"], result.params["intercept"]


# α as a fraction of α_max per data set: glum (and statsmodels, below) certified there, with zeros for
# the L1 and elastic-net penalties (fewer zeros at the smaller fraction)
GLUM_CASES = [
    (name, family, kind, fraction)
    for name in ("randhie", "fair", "fair_exposure", "linnerud", "wide")
    for family in MODELS
    for kind, fraction in (("laplace", 0.3), ("laplace", 0.05), ("elasticnet", 0.1), ("gaussian", 0.02))
]


@pytest.mark.parametrize(("name", "family", "kind", "fraction"), GLUM_CASES)
def test_map_equals_glum(x64, count_data, name, family, kind, fraction):
    X, y, offset = count_data[name]
    alpha, l1_ratio = fraction * _alpha_max(X, y), PENALTIES[kind]
    dispersion = DISPERSION if family == "negative_binomial" else None
    reference = glum_glm(family, X, y, alpha, l1_ratio, dispersion=dispersion, offset=offset)
    coef, intercept = _map(family, X, y, offset, kind, alpha, l1_ratio)
    label = f"{name} {family} {kind} alpha={alpha:.4g} vs glum"
    assert_map_equal(coef, intercept, reference.coef, reference.intercept, label=label)
    if kind != "gaussian":
        assert np.any(reference.coef == 0), f"{label}: no zero to compare"


@pytest.mark.parametrize("name", ["randhie", "fair", "linnerud", "wide"])
def test_map_equals_poisson_regressor(x64, count_data, name):
    X, y, _ = count_data[name]
    alpha = 0.02 * _alpha_max(X, y)
    reference = sklearn_poisson(X, y, alpha)
    coef, intercept = _map("poisson", X, y, None, "gaussian", alpha, 0.0, convention="sklearn")
    assert_map_equal(
        coef, intercept, reference.coef, reference.intercept, label=f"{name} vs PoissonRegressor"
    )


# statsmodels' GLM elastic net (coordinate descent) stops with a wrong zero set at the smaller α on these
# data (a zero whose gradient is 2-3 λ₁, statsmodels issue #9428); at 0.3 α_max it is certified
@pytest.mark.parametrize("family", list(MODELS))
@pytest.mark.parametrize("name", ["randhie", "fair_exposure", "linnerud", "wide"])
def test_map_equals_statsmodels_glm(x64, count_data, name, family):
    X, y, offset = count_data[name]
    alpha = 0.3 * _alpha_max(X, y)
    dispersion = DISPERSION if family == "negative_binomial" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its convergence warning: the certificate decides
        reference = statsmodels_glm(family, X, y, alpha, 1.0, dispersion=dispersion, offset=offset)
    coef, intercept = _map(family, X, y, offset, "laplace", alpha, 1.0, convention="statsmodels")
    label = f"{name} {family} vs statsmodels GLM.fit_regularized"
    assert_map_equal(coef, intercept, reference.coef, reference.intercept, label=label)
    assert np.any(reference.coef == 0)


# statsmodels' discrete models minimise −loglike + α‖w‖₁ (a sum: the book convention) by SLSQP, and
# the negative binomial's estimates its dispersion with the weights: the MAP with a flat prior on it
@pytest.mark.parametrize(("name", "fraction"), [("randhie", 0.03), ("fair", 0.05), ("linnerud", 0.05)])
@pytest.mark.parametrize("family", list(MODELS))
def test_map_equals_statsmodels_discrete_l1(x64, count_data, name, fraction, family):
    X, y, _ = count_data[name]
    # fractions of α_max where the GLM elastic net above stops short and SLSQP's answer certifies
    alpha = fraction * _alpha_max(X, y) * X.shape[0]
    reference, dispersion = statsmodels_l1(family, X, y, alpha)
    prior = prior_from_penalty("laplace", alpha, convention="book", family=family)
    extra = {}
    if family == "negative_binomial":  # from the default start: α and the weights found in turn
        extra["dispersion"] = dist.ImproperUniform(constraints.positive, (), ())
    result = map_estimate(MODELS[family], X, y, prior=prior, **extra)
    assert result.converged
    label = f"{name} {family} vs statsmodels discrete fit_regularized(method='l1')"
    params = result.params
    assert_map_equal(params["coef"], params["intercept"], reference.coef, reference.intercept, label=label)
    assert np.any(reference.coef == 0)
    if dispersion is not None:
        assert abs(params["dispersion"] - dispersion) <= 1e-6 * dispersion, (params["dispersion"], dispersion)


@pytest.fixture(scope="module")
def outlier_data():
    stackloss = sm.datasets.stackloss.load_pandas().data  # the classic robust-regression set
    X, y = load_diabetes(return_X_y=True, scaled=False)
    return {
        "stackloss": (
            stackloss.drop(columns="STACKLOSS").to_numpy(float),
            stackloss.STACKLOSS.to_numpy(float),
        ),
        "diabetes": (X, y),
    }


# ν, σ fixed (the scale about the residual sd of least squares), Laplace rates with exact zeros
@pytest.mark.parametrize(
    ("name", "df", "sigma", "l1"),
    [
        ("stackloss", 3.0, 2.0, 40.0),
        ("stackloss", 3.0, 2.0, 12.0),
        ("diabetes", 4.0, 40.0, 1.0),
        ("diabetes", 4.0, 40.0, 0.1),
    ],
)
def test_student_t_map_equals_its_certified_lasso(x64, outlier_data, name, df, sigma, l1):
    X, y = outlier_data[name]
    reference = student_t_lasso(X, y, df=df, sigma=sigma, l1=l1, label=f"{name} Student-t lasso l1={l1}")
    prior = prior_from_penalty("laplace", l1, convention="book", family="student_t")
    result = map_estimate(student_t_regression, X, y, prior=prior, df=df, sigma=sigma)
    assert result.converged
    params = result.params
    label = f"{name} Student-t l1={l1}"
    assert_map_equal(params["coef"], params["intercept"], reference.coef, reference.intercept, label=label)
    assert np.any(reference.coef == 0)


def test_glum_gaussian_convention_is_elastic_net_scaled(x64, diabetes):
    """glum's Gaussian objective (1/2n)‖r‖² + αρ‖w‖₁ + (α(1−ρ)/2)‖w‖² is scikit-learn's ElasticNet's:
    its ridge (ρ = 0) is Ridge at n·α, and the convention says so."""
    from glum import GeneralizedLinearRegressor

    X, y = diabetes
    alpha = 0.01
    glum_ridge = GeneralizedLinearRegressor(family="normal", alpha=alpha, l1_ratio=0.0, gradient_tol=1e-12)
    glum_ridge.fit(X, y)
    reference = sklearn_linear("gaussian", X, y, X.shape[0] * alpha)
    np.testing.assert_allclose(glum_ridge.coef_, reference.coef, rtol=1e-6)
    prior = prior_from_penalty("gaussian", alpha, convention="glum", n_samples=X.shape[0])
    assert prior == prior_from_penalty("gaussian", X.shape[0] * alpha)  # Ridge(n·α), noise-scaled
    lasso = prior_from_penalty("laplace", alpha, convention="glum", n_samples=X.shape[0])
    assert lasso == prior_from_penalty("laplace", alpha, n_samples=X.shape[0])  # Lasso(α)


DEFINED = [
    (convention, family, kind)
    for convention in ("book", "sklearn", "glum", "statsmodels")
    for family in ("gaussian", "bernoulli", "poisson", "negative_binomial", "student_t")
    for kind in PENALTIES
    if convention == "book"
    or (family != "student_t" and (convention != "sklearn" or family in ("gaussian", "bernoulli")))
    or (convention, family, kind) == ("sklearn", "poisson", "gaussian")
]


@pytest.mark.parametrize(("convention", "family", "kind"), DEFINED)
def test_penalty_round_trip(convention, family, kind):
    n, alpha, l1_ratio = 50, 0.3, PENALTIES[kind] if kind != "elasticnet" else 0.25
    prior = prior_from_penalty(
        kind, alpha, l1_ratio=l1_ratio, convention=convention, family=family, n_samples=n
    )
    back = penalty_from_prior(prior, convention=convention, family=family, n_samples=n, sigma=1.7)
    assert back["kind"] == kind
    assert np.isclose(back["alpha"], alpha, rtol=1e-14) and np.isclose(back["l1_ratio"], l1_ratio, rtol=1e-14)


def test_count_conventions_are_the_mean_loss_rates():
    """glum and statsmodels: λ = nα(ρ, 1 − ρ) for the count and Bernoulli families; PoissonRegressor's
    L2 is glum's; the book convention is α itself."""
    for convention in ("glum", "statsmodels"):
        for family in ("bernoulli", "poisson", "negative_binomial"):
            prior = prior_from_penalty(
                "elasticnet", 0.2, l1_ratio=0.25, convention=convention, family=family, n_samples=40
            )
            assert (prior.l1, prior.l2, prior.noise_scaled) == (*glm_rates(40, 0.2, 0.25), False)
    sklearn = prior_from_penalty("gaussian", 0.2, convention="sklearn", family="poisson", n_samples=40)
    assert sklearn == prior_from_penalty("gaussian", 0.2, convention="glum", family="poisson", n_samples=40)
    book = prior_from_penalty("laplace", 0.2, convention="book", family="negative_binomial")
    assert (book.l1, book.l2) == (0.2, 0.0)


@pytest.mark.parametrize(
    ("convention", "family", "kind", "message"),
    [
        ("sklearn", "poisson", "laplace", "PoissonRegressor has an L2 penalty only"),
        ("sklearn", "negative_binomial", "gaussian", "no negative binomial regression"),
        ("glum", "student_t", "laplace", "no Student-t objective"),
        ("statsmodels", "student_t", "gaussian", "no Student-t objective"),
    ],
)
def test_undefined_conventions_are_refused(convention, family, kind, message):
    with pytest.raises(ValueError, match=message):
        prior_from_penalty(kind, 0.1, convention=convention, family=family, n_samples=10)
    with pytest.raises(ValueError, match=message):
        penalty_from_prior(dist.Laplace(0.0, 1.0), convention=convention, family=family, n_samples=10)


def test_unknown_family_and_missing_rows_are_refused():
    with pytest.raises(ValueError, match="unknown family 'gamma'"):
        prior_from_penalty("laplace", 0.1, family="gamma")
    with pytest.raises(ValueError, match="n_samples is needed for the glum convention"):
        prior_from_penalty("laplace", 0.1, convention="glum", family="poisson")


def test_certificate_refuses_a_wrong_poisson_support(count_data):
    """The Poisson certificate fails where it should: one weight more or fewer than the support."""
    X, y, _ = count_data["linnerud"]
    alpha = 0.3 * _alpha_max(X, y)
    exact = glum_glm("poisson", X, y, alpha, 1.0)
    l1 = glm_rates(X.shape[0], alpha, 1.0)[0]
    extra = exact.coef.copy()
    extra[np.flatnonzero(extra == 0)[0]] = 0.01
    with pytest.raises(AssertionError, match="not certified"):
        certify_glm(X, y, extra, exact.intercept, family="poisson", l1=l1, label="one weight more")
    fewer = exact.coef.copy()
    fewer[np.flatnonzero(fewer)[0]] = 0.0
    with pytest.raises(AssertionError, match="not certified"):
        certify_glm(X, y, fewer, exact.intercept, family="poisson", l1=l1, label="one weight fewer")


# --------------------------------------------------------------------------------------------------
# the host solver map_estimate runs for these models (bayesreg.engine.glm)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["randhie", "fair", "linnerud"])
def test_negative_binomial_with_a_dispersion_prior_from_the_default_start(x64, count_data, name):
    """A Gamma(2, 0.02 n) prior on α (its rate grows with the rows, so that it moves α on each data
    set): the MAP from the default start is the certified alternation of weights and α, started at
    statsmodels' flat-prior α."""
    X, y, _ = count_data[name]
    alpha = 0.05 * _alpha_max(X, y) * X.shape[0]
    _, dispersion = statsmodels_l1("negative_binomial", X, y, alpha)
    shape, rate = 2.0, 0.02 * X.shape[0]
    label = f"{name} NB lasso, Gamma({shape}, {rate:.4g}) prior on the dispersion"
    reference, expected = nb_lasso_with_dispersion_prior(
        X,
        y,
        l1=alpha,
        prior_score=lambda a: (shape - 1) / a - rate,
        dispersion=dispersion,
        label=label,
    )
    prior = prior_from_penalty("laplace", alpha, convention="book", family="negative_binomial")
    result = map_estimate(negative_binomial_regression, X, y, prior=prior, dispersion=dist.Gamma(shape, rate))
    assert result.converged
    params = result.params
    assert_map_equal(params["coef"], params["intercept"], reference.coef, reference.intercept, label=label)
    assert abs(params["dispersion"] - expected) <= 1e-6 * expected, (params["dispersion"], expected)
    assert abs(expected - dispersion) > 0.01 * dispersion  # the prior moved α: not the flat answer


def _compiled(model, X, y, prior, **kwargs):
    """The compiled solver (`solve`: SVI with ProximalNewton) run directly, from the cold start."""
    with jax.enable_x64(True):
        dynamic, static = split_static({**kwargs, "prior": prior.smooth_part()})
        args, dynamic, l1, tol = as_arrays(((X, y), dynamic, prior.l1, 1e-10))
        values, _, residual = solve(model, static, args, dynamic, l1, {}, tol, has_l1=True, max_steps=200)
    assert float(residual) <= 1e-10
    return {name: np.asarray(v) for name, v in values.items()}


@pytest.mark.parametrize("family", ["bernoulli", "poisson", "negative_binomial"])
def test_host_solver_finds_the_compiled_solvers_answer(x64, count_data, family):
    """`glm_map` finds what the compiled proximal Newton solver finds (an elastic net: both rates; an
    offset for the counts), and map_estimate runs it for the count models without compiling."""
    X, counts, offset = count_data["fair_exposure"]
    n = X.shape[0]
    model, kwargs = MODELS.get(family, logistic_regression), {}
    y = counts
    if family == "bernoulli":
        y, offset = (counts > 0).astype(float), None
    else:
        kwargs["offset"] = offset
    if family == "negative_binomial":
        kwargs["dispersion"] = DISPERSION
    alpha = 0.1 * np.max(np.abs(X.T @ (y - y.mean()))) / n
    prior = prior_from_penalty(
        "elasticnet", alpha, l1_ratio=0.5, convention="glum", family=family, n_samples=n
    )
    host = glm_map(family, X, y, l1=prior.l1, l2=prior.l2, **kwargs)
    assert host.residual <= 1e-10
    expected = _compiled(model, X, y, prior, **kwargs)
    coef, intercept = host.params["coef"], host.params["intercept"]
    assert_map_equal(coef, intercept, expected["coef"], expected["intercept"], label=family)
    assert np.any(expected["coef"] == 0)
    if family != "bernoulli":
        compiled = solve.cache_size() + solve_given.cache_size()
        result = map_estimate(model, X, y, prior=prior, **kwargs)
        assert solve.cache_size() + solve_given.cache_size() == compiled
        assert result.converged and result.num_steps == host.num_steps
        np.testing.assert_array_equal(result.params["coef"], coef)


def _ar1(n, p, rho, rng):
    """Columns with correlation ρ^|i−j| (an AR(1) across the columns)."""
    X = rng.normal(size=(n, p))
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * X[:, j]
    return X


def test_poisson_lasso_of_the_benchmark_shape_equals_glum(x64):
    """The benchmark's problem (benchmarks/bench_glm_map.py) at a fifth of its rows: 100 correlated
    columns, about two thirds of the weights 0 at 0.05 α_max, so the working set (the support and the
    zeros near their bound) changes between steps."""
    rng = np.random.default_rng(5)
    X = _ar1(20_000, 100, 0.5, rng)
    w = np.where(rng.uniform(size=100) < 0.3, rng.normal(size=100), 0.0)
    y = rng.poisson(np.exp(0.5 + X @ w / 4)).astype(float)
    alpha = 0.05 * _alpha_max(X, y)
    reference = glum_glm("poisson", X, y, alpha, 1.0)
    coef, intercept = _map("poisson", X, y, None, "laplace", alpha, 1.0)
    assert_map_equal(
        coef, intercept, reference.coef, reference.intercept, label="AR(1) Poisson lasso vs glum"
    )
    assert 20 <= np.sum(reference.coef == 0) <= 90


def test_stopping_short_falls_back_to_the_compiled_solver_and_warns(x64, count_data):
    """One proximal Newton step is not enough on randhie: the host solver's residual is above tol, so
    map_estimate runs the compiled one, which says that it did not converge either."""
    X, y, _ = count_data["randhie"]
    prior = prior_from_penalty(
        "laplace", 0.05 * _alpha_max(X, y), convention="glum", family="poisson", n_samples=len(y)
    )
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        result = map_estimate(poisson_regression, X, y, prior=prior, max_steps=1)
    assert not result.converged and result.residual > 1e-10


def test_glm_map_refuses_unknown_families_and_mismatched_shapes():
    X, y = np.ones((5, 2)), np.ones(5)
    with pytest.raises(ValueError, match="unknown family 'gamma'"):
        glm_map("gamma", X, y)
    with pytest.raises(ValueError, match=r"y has shape \(4,\), expected \(5,\)"):
        glm_map("poisson", X, y[:4])
