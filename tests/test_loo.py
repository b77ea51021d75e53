"""PSIS-LOO in blocks of rows against ArviZ's `az.loo` on the full log-likelihood matrix.

* Real data, 4 chains: the diabetes linear model (σ sampled, Laplace prior) and a logistic model on
  the breast-cancer data. Every field of `PointwiseLOO.elpd_data` equals
  ``az.loo(idata, pointwise=True)`` to 1e-10, for blocks that divide n, that do not (the last block
  padded), of one row, and of more rows than n; so do the effective sample sizes of the LOO weights
  computed here from the full matrix with `az.psislw`.
* Threads: one thread and three give the same values, bit for bit; so does the block computation in
  a scratch array reused from block to block.
* The memory bound: every block the compiled program returns is (rows, draws) with
  rows × draws × 8 ≤ the budget, and the rows of two data sets of different n go through one
  compiled program.
* The InferenceData group: `add_loo`, ``to_netcdf`` / ``from_netcdf``, then `loo` and `az.compare`
  give what ArviZ gives on the full log-likelihood.
* `psis` against `az.psislw` row by row, on rows that take its vectorised path and rows that
  ArviZ handles (ties among the largest ratios, a constant row, a range beyond float64, few draws).
* A conjugate model, where the exact leave-one-out predictive density is known in closed form.
* In the background (`start_pointwise_loo`): the same values, bit for bit, as `pointwise_loo`; the
  Gaussian model's blocks computed in a thread, the logistic model's (which trace the model) when
  asked for; an error raised where the result is asked for; and `fit_posterior`'s collapsed chains
  get their ``loo`` group this way, equal to `pointwise_loo` of their draws.
"""

import warnings

import arviz as az
import numpy as np
import numpyro.distributions as dist
import pytest
from scipy.special import logsumexp
from scipy.stats import norm

import bayesreg.loo as loo_module
from bayesreg.engine.arrays import split_static
from bayesreg.engine.programs import exporting
from bayesreg.loo import (
    LOO_GROUP,
    PointwiseLOO,
    add_loo,
    chunk_rows,
    loo,
    pointwise_loo,
    psis,
    start_pointwise_loo,
)
from bayesreg.models import linear_regression, logistic_regression
from bayesreg.priors import prior_from_penalty
from bayesreg.sampling import fit_posterior, sample_posterior

NUM_WARMUP, NUM_SAMPLES, NUM_CHAINS = 300, 250, 4
DRAWS = NUM_CHAINS * NUM_SAMPLES
TOLERANCE = 1e-10


def _fit(model, X, y, **model_kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return sample_posterior(
            model,
            X,
            y,
            num_warmup=NUM_WARMUP,
            num_samples=NUM_SAMPLES,
            num_chains=NUM_CHAINS,
            seed=1,
            progress_bar=False,
            log_likelihood=True,  # the full matrix, for az.loo to compare with
            **model_kwargs,
        )


def _linear_kwargs(X, y):
    return {
        "prior": prior_from_penalty("laplace", 0.1, n_samples=X.shape[0]),
        "sigma": dist.Exponential(1.0 / np.std(y)),
    }


def _logistic_kwargs(X, y):
    return {"prior": prior_from_penalty("gaussian", 1.0, family="bernoulli")}


CASES = {
    "diabetes": (linear_regression, "diabetes", _linear_kwargs),
    "breast_cancer": (logistic_regression, "breast_cancer", _logistic_kwargs),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    """One 4-chain fit per data set with its full log-likelihood, and az.loo of it."""
    model, data, kwargs = CASES[request.param]
    X, y = request.getfixturevalue(data)
    kwargs = kwargs(X, y)
    idata = _fit(model, X, y, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a k̂ warning of az.loo, if any
        reference = az.loo(idata, pointwise=True)
    return model, X, y, kwargs, idata, reference


def _draws(idata):
    return {name: idata.posterior[name].values for name in idata.posterior.data_vars}


def _assert_elpd_equal(elpd, reference):
    assert list(elpd.index) == list(reference.index)
    for field in ("elpd_loo", "se", "p_loo", "good_k"):
        assert abs(elpd[field] - reference[field]) <= TOLERANCE, field
    for field in ("n_samples", "n_data_points", "warning", "scale"):
        assert elpd[field] == reference[field], field
    for field in ("loo_i", "pareto_k"):
        assert elpd[field].dims == reference[field].dims == ("obs",)
        np.testing.assert_array_equal(elpd[field]["obs"].values, reference[field]["obs"].values)
        np.testing.assert_allclose(elpd[field].values, reference[field].values, rtol=0, atol=TOLERANCE)


def _full_ess(idata, reff):
    """ESS of each observation's smoothed LOO weights from the full (n, draws) matrix."""
    loglik = idata.log_likelihood["y"].stack(__sample__=("chain", "draw")).values
    log_weights, _ = az.psislw(-loglik, reff)
    weights = np.exp(log_weights - logsumexp(log_weights, axis=-1, keepdims=True))
    return reff / np.sum(weights**2, axis=-1)


@pytest.mark.parametrize("rows", [100, 1, 441, 10_000])
def test_blocks_equal_az_loo(case, rows, x64):
    """442 and 569 rows in blocks of 100 (the last padded), 1, 441 (a block of one row last) and
    more than n: the same ELPDData as az.loo on the whole matrix, and the weights' ESS."""
    model, X, y, kwargs, idata, reference = case
    result = pointwise_loo(model, _draws(idata), X, y, chunk_bytes=rows * DRAWS * 8, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _assert_elpd_equal(result.elpd_data(), reference)
    np.testing.assert_allclose(result.ess, _full_ess(idata, result.reff), rtol=1e-10)
    assert np.all((result.ess > 0) & (result.ess <= result.reff * DRAWS * (1 + 1e-12)))


def test_threads_give_the_same_values(case, x64):
    """Blocks worked on by one thread and by three (9 and 12 blocks of 50 rows, more than the
    threads and than the blocks submitted at once): the same values, bit for bit, in row order."""
    model, X, y, kwargs, idata, _ = case
    one, three = (
        pointwise_loo(model, _draws(idata), X, y, chunk_bytes=50 * DRAWS * 8, threads=threads, **kwargs)
        for threads in (1, 3)
    )
    for field in ("elpd_loo", "p_loo", "pareto_k", "ess"):
        np.testing.assert_array_equal(getattr(three, field), getattr(one, field), err_msg=field)
    assert (one.n_samples, one.reff) == (three.n_samples, three.reff)


def test_threads_trace_the_model_one_at_a_time(diabetes, tmp_path, x64):
    """Four threads on block shapes not compiled before, with the export cache on as in the command
    line (each thread may be the first to export the program): numpyro's handler stack is shared
    by the process, so two traces at once would mix their sample sites ("all sites must have
    unique names"); here every run gives the values of one thread."""
    X, y = diabetes
    y = (y > np.median(y)).astype(float)  # a logistic model: numpyro's log-likelihood of the model
    rng = np.random.default_rng(1)
    draws = {
        "coef": rng.normal(size=(NUM_CHAINS, 50, X.shape[1])),
        "intercept": rng.normal(size=(NUM_CHAINS, 50)),
    }
    for rows in (23, 29, 31):  # block shapes of their own: each traced afresh
        budget = rows * NUM_CHAINS * 50 * 8
        with exporting(tmp_path):
            four, one = (
                pointwise_loo(logistic_regression, draws, X, y, chunk_bytes=budget, threads=t, prior=None)
                for t in (4, 1)
            )
        np.testing.assert_array_equal(one.elpd_loo, four.elpd_loo)


def test_background_equals_pointwise_loo(case, x64):
    """start_pointwise_loo gives pointwise_loo's values bit for bit; the linear model's blocks (a
    written-out program) in a thread of their own, the logistic model's in the caller's thread."""
    model, X, y, kwargs, idata, _ = case
    pending = start_pointwise_loo(model, _draws(idata), X, y, chunk_bytes=100 * DRAWS * 8, **kwargs)
    assert pending.running == (model is linear_regression)
    result = pending.result()
    expected = pointwise_loo(model, _draws(idata), X, y, chunk_bytes=100 * DRAWS * 8, **kwargs)
    for field in ("elpd_loo", "p_loo", "pareto_k", "ess"):
        np.testing.assert_array_equal(getattr(result, field), getattr(expected, field), err_msg=field)
    assert (result.n_samples, result.reff) == (expected.n_samples, expected.reff)
    bad = {**_draws(idata), "coef": _draws(idata)["coef"] + np.inf}
    pending = start_pointwise_loo(model, bad, X, y, **kwargs)
    with pytest.raises(ValueError, match="coef has NaN or infinite values"):
        pending.result()


def test_collapsed_fit_overlaps_loo(diabetes, monkeypatch, x64):
    """fit_posterior's collapsed chains (unscaled columns: a scale ratio above 1e3) start their
    PSIS-LOO in the background before the MAP, and the saved group equals pointwise_loo of the
    posterior draws, bit for bit."""
    import bayesreg.sampling as sampling_module

    X, y = diabetes
    X = X * np.logspace(-3, 2, X.shape[1])
    kwargs = _linear_kwargs(X, y)
    started = []

    def recording(*args, **kw):
        started.append(start_pointwise_loo(*args, **kw))
        return started[-1]

    monkeypatch.setattr(sampling_module, "start_pointwise_loo", recording)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_posterior(
            linear_regression, X, y, num_warmup=150, num_samples=150, num_chains=2, seed=3,
            progress_bar=False, **kwargs,
        )  # fmt: skip
    assert fit.parametrisation == "collapsed"
    assert len(started) == 1 and started[0].running
    draws = {name: fit.idata.posterior[name].values for name in fit.idata.posterior.data_vars}
    expected = pointwise_loo(linear_regression, draws, X, y, **kwargs)
    for field in ("elpd_loo", "p_loo", "pareto_k", "ess"):
        np.testing.assert_array_equal(fit.idata[LOO_GROUP][field].values, getattr(expected, field))


def test_scales(case, x64):
    model, X, y, kwargs, idata, _ = case
    result = pointwise_loo(model, _draws(idata), X, y, chunk_bytes=128 * DRAWS * 8, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for scale in ("deviance", "negative_log"):
            _assert_elpd_equal(result.elpd_data(scale=scale), az.loo(idata, pointwise=True, scale=scale))


@pytest.mark.parametrize(
    ("model", "program_name"),
    [(linear_regression, "_gaussian_block"), (logistic_regression, "_block_log_likelihood")],
)
def test_block_shape_is_the_memory_bound(diabetes, model, program_name, monkeypatch, x64):
    """Every block the program returns is (rows, draws) with rows × draws × 8 ≤ the budget; two data
    sets of different n (442 and 300 rows) share one compiled program: the Gaussian one written
    out, and numpyro's log-likelihood of another model."""
    X, y = diabetes
    if model is logistic_regression:
        y = (y > np.median(y)).astype(float)
    rng = np.random.default_rng(0)
    draws = {
        "coef": rng.normal(size=(NUM_CHAINS, NUM_SAMPLES, X.shape[1])),
        "intercept": 150 + rng.normal(size=(NUM_CHAINS, NUM_SAMPLES)),
    }
    kwargs = {"sigma": 50.0} if model is linear_regression else {}
    budget = 1_000_000
    rows = chunk_rows(DRAWS, budget)
    assert rows == 125 and rows * DRAWS * 8 <= budget < (rows + 1) * DRAWS * 8
    program = getattr(loo_module, program_name)
    shapes = []

    def recording(*args, **kwargs):
        out = program(*args, **kwargs)
        shapes.append(out.shape)
        return out

    monkeypatch.setattr(loo_module, program_name, recording)
    compiled = program.cache_size()
    for n in (442, 300):
        shapes.clear()
        result = pointwise_loo(model, draws, X[:n], y[:n], chunk_bytes=budget, prior=None, **kwargs)
        assert result.elpd_loo.shape == (n,) and np.all(np.isfinite(result.elpd_loo))
        assert shapes == [(rows, DRAWS)] * -(-n // rows)
    assert program.cache_size() == compiled + 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sigma": dist.Exponential(0.02)},
        {"sigma": 55.0},
        {"sigma": dist.HalfNormal(60.0), "fit_intercept": False},
    ],
    ids=["sigma-sampled", "sigma-fixed", "no-intercept"],
)
def test_gaussian_block_equals_numpyro(diabetes, kwargs, x64):
    """linear_regression's log-likelihood written out (the program pointwise_loo uses for it) equals
    numpyro's log_likelihood of the model on the unscaled diabetes data, to 1e-12 relative."""
    X, y = diabetes
    rng = np.random.default_rng(4)
    draws = {
        "coef": rng.normal(scale=300.0, size=(2, 30, X.shape[1])),
        "intercept": 150 + rng.normal(size=(2, 30)),
        "sigma": 50 + 10 * rng.uniform(size=(2, 30)),
    }
    if not isinstance(kwargs["sigma"], dist.Distribution):
        del draws["sigma"]
    kwargs = {"prior": None, **kwargs}
    dynamic, static = split_static(kwargs)
    gaussian = loo_module._gaussian_draws(linear_regression, draws, kwargs)
    written = loo_module._gaussian_block(X, y, *gaussian)
    program = loo_module._block_log_likelihood
    reference = program(linear_regression, static, draws, X, y, dynamic, var_name="y")
    assert written.shape == reference.shape == (X.shape[0], 60)
    np.testing.assert_allclose(written, reference, rtol=1e-12, atol=0)
    assert loo_module._gaussian_draws(logistic_regression, draws, kwargs) is None
    without_sigma = {name: value for name, value in draws.items() if name != "sigma"}
    sampled = isinstance(kwargs["sigma"], dist.Distribution)  # then its draws are needed
    assert (loo_module._gaussian_draws(linear_regression, without_sigma, kwargs) is None) == sampled


def _psis_rows(draws, rng):
    """Log ratios, one row per case: regular rows and rows that need ArviZ's own function."""
    normal = rng.normal(size=draws)
    heavy = np.log(np.abs(rng.standard_t(1, size=draws)))  # k̂ near 1
    light = rng.uniform(size=draws)  # bounded ratios: k̂ < 0
    tied = np.repeat(rng.normal(size=(draws + 1) // 2), 2)[:draws]  # repeated draws, as NUTS makes
    constant = np.zeros(draws)
    wide = np.linspace(-1e5, 0.0, draws)  # the cutoff below log(smallest positive float), -708
    return np.stack([normal, heavy, light, 3 * normal, tied, constant, wide])


@pytest.mark.parametrize(("draws", "reff"), [(4000, 0.9), (1000, 1.3), (333, 0.5), (20, 1.0)])
def test_psis_equals_arviz(draws, reff, monkeypatch):
    """Every row equals az.psislw's (log weights to 1e-12, k̂ to 1e-12, inf and nan alike); the first
    four rows take the vectorised path, the others ArviZ's (all rows, for 20 draws: a tail of 4)."""
    log_ratios = _psis_rows(draws, np.random.default_rng(draws))
    reference_weights, reference_k = az.psislw(log_ratios, reff)
    handed = []
    arviz_psislw = az.psislw
    monkeypatch.setattr(az, "psislw", lambda rows, r: handed.append(len(rows)) or arviz_psislw(rows, r))
    log_weights, k = psis(log_ratios, reff)
    assert handed == ([7] if draws == 20 else [3])
    np.testing.assert_allclose(log_weights, reference_weights, rtol=0, atol=1e-12)
    np.testing.assert_allclose(k, np.asarray(reference_k), rtol=0, atol=1e-12, equal_nan=True)
    assert np.allclose(_logsumexp_rows(log_weights), 0.0, atol=1e-12)


def _logsumexp_rows(values):
    return logsumexp(values, axis=-1)


def _loo_rows(draws, reff, rng):
    """Log-likelihood rows (rows, draws) for the tail-only LOO: regular rows of several shapes, and
    rows it must hand on (ties, a constant row, a range beyond float64's exponents, a tail whose
    Pareto grid overflows its products)."""
    regular = -0.5 * (1.5 + 0.2 * rng.normal(size=(3, draws))) ** 2  # small variance: x near 0
    heavy = np.log(np.abs(rng.standard_t(1, size=draws)))  # ratios with k̂ near 1
    light = -rng.uniform(size=draws)
    span = np.linspace(-800.0, 0.0, draws)[rng.permutation(draws)]  # Σ exp(ll − lo) overflows
    tied = np.repeat(rng.normal(size=(draws + 1) // 2), 2)[:draws]
    constant = np.full(draws, -1.0)
    wide = np.linspace(-1e5, 0.0, draws)  # the cutoff below log(smallest positive float)
    # ratios x = lo − ll: a quarter of the tail a few ulps above a cutoff of −60, the rest up to 0:
    # the grid's factors 1 − b x reach 1e38, a product of 16 of them overflows
    tail = int(np.ceil(min(draws / 5, 3 * (draws / reff) ** 0.5)))  # ArviZ's tail length
    x = np.linspace(-200.0, -61.0, draws)
    x[-tail - 1] = -60.0
    x[-tail:] = np.linspace(-20.0, 0.0, tail)
    x[-tail : -tail + tail // 4 + 1] = np.nextafter(-60.0, 0.0) + np.arange(tail // 4 + 1) * 1e-14
    overflow = -x
    return np.vstack([regular, heavy, light, span, tied, constant, wide, overflow])


def _loo_reference(loglik, reff):
    """elpd_i, p_loo_i, k̂_i and the weights' ESS from az.psislw on each whole row."""
    log_weights, k = az.psislw(-loglik, reff)
    elpd = logsumexp(log_weights + loglik, axis=-1)
    lppd = logsumexp(loglik, axis=-1) - np.log(loglik.shape[-1])
    ess = reff / np.exp(logsumexp(2 * log_weights, axis=-1))
    return elpd, lppd - elpd, np.asarray(k), ess


@pytest.mark.parametrize(("draws", "reff"), [(4000, 0.8), (1000, 1.3), (20, 1.0)])
def test_tail_only_loo_equals_arviz(draws, reff, monkeypatch):
    """The block computation of pointwise_loo (tail partition, compiled Pareto fit, sums over the
    row) equals az.psislw on whole rows to 1e-10 for every row; the tied, constant, wide and
    overflowing rows (all rows, for 20 draws: a tail of 4) are the ones handed to az.psislw."""
    loglik = _loo_rows(draws, reff, np.random.default_rng(draws))
    reference = _loo_reference(loglik, reff)
    handed = []
    arviz_psislw = az.psislw
    monkeypatch.setattr(az, "psislw", lambda rows, r: handed.append(len(rows)) or arviz_psislw(rows, r))
    elpd, p_loo, k, ess = loo_module._loo_block(loglik, reff)
    assert handed == ([len(loglik)] if draws == 20 else [4])
    np.testing.assert_allclose(elpd, reference[0], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(p_loo, reference[1], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(k, reference[2], rtol=0, atol=TOLERANCE, equal_nan=True)
    np.testing.assert_allclose(ess, reference[3], rtol=TOLERANCE)


@pytest.mark.parametrize(("draws", "reff"), [(4000, 0.8), (1000, 1.3)])
def test_tail_only_loo_in_a_scratch_array(draws, reff):
    """The block computation in a scratch array (pointwise_loo's threads reuse one from block to
    block) gives bitwise the values without one, whatever the scratch array held before, and leaves
    the log-likelihood as it was."""
    loglik = _loo_rows(draws, reff, np.random.default_rng(draws))
    before = loglik.copy()
    expected = loo_module._loo_block(loglik, reff)
    scratch = np.random.default_rng(1).normal(size=loglik.shape)
    for _ in range(2):  # the scratch array as the previous block left it
        values = loo_module._loo_block(loglik, reff, out=scratch)
        for value, reference in zip(values, expected, strict=True):
            np.testing.assert_array_equal(value, reference)
    np.testing.assert_array_equal(loglik, before)


def test_conjugate_exact_loo(x64):
    """Known σ, Normal prior, exact posterior draws: elpd_loo_i within Monte Carlo error of the exact
    leave-one-out predictive density (closed form), and the ESS near the number of draws."""
    rng = np.random.default_rng(3)
    n, p = 50, 2
    X = rng.normal(size=(n, p))
    y = X @ np.array([0.5, -1.0]) + rng.normal(size=n)
    precision = np.eye(p) + X.T @ X
    mean = np.linalg.solve(precision, X.T @ y)
    chol = np.linalg.cholesky(np.linalg.inv(precision))
    coef = mean + rng.normal(size=(4, 2000, p)) @ chol.T
    prior = prior_from_penalty("gaussian", 1.0, convention="book")
    result = pointwise_loo(
        linear_regression, {"coef": coef}, X, y, prior=prior, sigma=1.0, fit_intercept=False
    )
    exact = np.empty(n)
    for i in range(n):
        keep = np.arange(n) != i
        precision_i = np.eye(p) + X[keep].T @ X[keep]
        mean_i = np.linalg.solve(precision_i, X[keep].T @ y[keep])
        var_i = 1.0 + X[i] @ np.linalg.solve(precision_i, X[i])
        exact[i] = norm.logpdf(y[i], X[i] @ mean_i, np.sqrt(var_i))
    # Monte Carlo error of log mean(r), r = 1 / p(y_i | θ) (delta method): sd(r / mean r) / √ESS
    loglik = norm.logpdf(y[:, None], (coef.reshape(-1, p) @ X.T).T, 1.0)
    ratios = np.exp(-loglik) / np.mean(np.exp(-loglik), axis=1, keepdims=True)
    mcse = np.std(ratios, axis=1) / np.sqrt(result.ess)
    assert np.all(np.abs(result.elpd_loo - exact) <= 4 * mcse + 1e-12)
    assert np.all(result.pareto_k < 0.5)
    assert np.all(result.ess > 0.5 * result.n_samples)


def test_saved_group_round_trip(case, tmp_path, x64):
    """add_loo → netCDF (without the log_likelihood group) → loo(): az.loo's ELPDData; loo() with the
    log-likelihood present is az.loo itself."""
    model, X, y, kwargs, idata, reference = case
    result = pointwise_loo(model, _draws(idata), X, y, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _assert_elpd_equal(loo(idata), reference)
    light = idata.copy()
    del light["log_likelihood"]
    add_loo(light, result)
    path = tmp_path / "posterior.nc"
    light.to_netcdf(str(path))
    saved = az.from_netcdf(str(path))
    assert "log_likelihood" not in saved.groups() and LOO_GROUP in saved.groups()
    assert saved[LOO_GROUP].sizes == {"obs": X.shape[0]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _assert_elpd_equal(loo(saved), reference)
    np.testing.assert_array_equal(saved[LOO_GROUP]["ess"].values, result.ess)


def test_compare_from_saved(diabetes, tmp_path, x64):
    """az.compare of two models from their saved pointwise values equals az.compare on the full
    log-likelihoods."""
    X, y = diabetes
    kwargs = _linear_kwargs(X, y)
    fits = {name: (columns, _fit(linear_regression, columns, y, **kwargs)) for name, columns in
            (("all", X), ("three", X[:, :3]))}  # fmt: skip
    saved = {}
    for name, (columns, idata) in fits.items():
        result = pointwise_loo(linear_regression, _draws(idata), columns, y, **kwargs)
        light = idata.copy()
        del light["log_likelihood"]
        path = tmp_path / f"{name}.nc"
        add_loo(light, result).to_netcdf(str(path))
        saved[name] = loo(az.from_netcdf(str(path)))
    reference = az.compare({name: idata for name, (_, idata) in fits.items()})
    table = az.compare(saved)
    assert list(table.index) == list(reference.index) == ["all", "three"]
    for column in ("elpd_loo", "p_loo", "elpd_diff", "se", "dse", "weight"):
        expected = reference[column].values.astype(float)
        np.testing.assert_allclose(table[column].values.astype(float), expected, atol=1e-8)


def test_warning_matches_arviz():
    """Some k̂ above good_k: warning True and a UserWarning naming how many, as az.loo warns."""
    result = PointwiseLOO(np.array([-1.0, -2.0]), np.array([0.1, 0.2]), np.array([0.3, 0.8]),
                          np.array([900.0, 15.0]), n_samples=1000, reff=1.0)  # fmt: skip
    with pytest.warns(UserWarning, match="greater than 0.67 for 1 of 2 observations"):
        elpd = result.elpd_data()
    assert elpd["warning"] and elpd["good_k"] == pytest.approx(1 - 1 / 3)


def test_bad_input(diabetes, x64):
    X, y = diabetes
    draws = {"coef": np.zeros((2, 10, X.shape[1])), "intercept": np.zeros((2, 10))}
    with pytest.raises(ValueError, match=r"same \(chain, draw\)"):
        pointwise_loo(linear_regression, {**draws, "intercept": np.zeros((2, 9))}, X, y, prior=None)
    with pytest.raises(ValueError, match=r"shaped \(chain, draw, \.\.\.\)"):
        pointwise_loo(linear_regression, {"intercept": np.zeros(10)}, X, y, prior=None)
    with pytest.raises(ValueError, match="X must be"):
        pointwise_loo(linear_regression, draws, X, y[:-1], prior=None)
    with pytest.raises(ValueError, match="y has NaN or infinite values"):
        pointwise_loo(linear_regression, draws, X, np.where(np.arange(len(y)) == 5, np.nan, y), prior=None)
    with pytest.raises(ValueError, match="coef has NaN or infinite values"):
        pointwise_loo(linear_regression, {**draws, "coef": draws["coef"] + np.inf}, X, y, prior=None)
    with pytest.raises(ValueError, match="positive"):
        chunk_rows(0)
    with pytest.raises(ValueError, match="scale must be one of"):
        PointwiseLOO(np.zeros(2), np.zeros(2), np.zeros(2), np.ones(2), 100, 1.0).elpd_data(scale="bits")
    idata = az.from_dict(posterior={"coef": np.zeros((2, 10))})
    with pytest.raises(ValueError, match="neither a 'log_likelihood' group nor a 'loo' group"):
        loo(idata)
