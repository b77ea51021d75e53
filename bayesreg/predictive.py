"""Predictions with uncertainty: the posterior and prior predictive of the models of `bayesreg.models`.

A posterior draw ``(coef, intercept, σ)`` gives the linear predictor ``μ = intercept + X coef`` and
then a new target ``y* ~ N(μ, σ²)`` (linear model) or ``y* ~ Bernoulli(sigmoid(μ))`` (logistic
model). From the draws of an InferenceData's ``posterior`` this module computes

- `predictive_sd`: the sd of the posterior predictive of ``y*``, ``sqrt(Var μ + E σ²)``;
- `predictive_interval`: the central (equal-tailed) interval of ``y*`` (linear) or of the
  probability ``P(y* = 1 | x)`` (logistic);
- `predictive_probability`: ``P(y* = 1 | x)``, the sigmoid averaged over the draws;
- `predictive_draws`: one ``y*`` per draw, as an array;
- `posterior_predictive`: those draws as ArviZ InferenceData (a ``predictions`` group for new rows,
  or ``posterior_predictive`` with ``observed_data`` for rows whose targets are known, which
  ``az.plot_ppc`` reads);
- `prior_predictive`: parameter draws from the prior (numpyro's ``Predictive`` on the model) and
  ``y*`` given each, as the ``prior`` and ``prior_predictive`` groups;
- `prediction_table`: an estimator's predictions for the rows of a DataFrame, columns matched by name.

The summaries are computed from the draws in NumPy, a block of rows at a time (at most
`CHUNK_VALUES` draw-by-row values per block), so memory stays bounded for any number of rows, and a
prediction needs no XLA compilation (a model loaded in a new process predicts at once). Only the
prior's parameter draws run in JAX, in one compiled program per model, settings and shape.

Why equal-tailed intervals rather than highest-density ones: the interval of each row is then the
``(1 − prob)/2`` and ``(1 + prob)/2`` quantiles, which are unchanged by a monotone transformation (the
interval of the probability is the sigmoid of the interval of the log-odds), exist for a predictive
made of a continuous and a discrete part alike, and are what "the predictive puts ``(1 − prob)/2`` on
each side" means to a reader of a prediction table. Highest-density intervals
(`~bayesreg.defaults.HDI_PROB` in the parameter tables) are narrower for skewed posteriors but depend on
the scale they are computed on. The default mass is the same `~bayesreg.defaults.HDI_PROB` (0.94,
ArviZ's default), so every interval the package prints holds the same share.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import jax
import numpy as np
import numpyro.distributions as dist
import pandas as pd
from numpy.typing import ArrayLike
from numpyro.infer import Predictive
from scipy.special import betainc, expit, gammaincc, gammaln, ndtr, ndtri, stdtr, stdtrit
from scipy.stats import nbinom, poisson

from bayesreg.defaults import HDI_PROB, NUTS
from bayesreg.engine.arrays import as_arrays, split_static
from bayesreg.engine.programs import program
from bayesreg.models import FAMILY_OF_MODEL
from bayesreg.params import CONSTRAINTS, FAMILIES, Options, check_param, check_params

if TYPE_CHECKING:  # arviz is imported where it is used: `import bayesreg` does not load it
    import arviz as az

__all__ = [
    # summaries of the posterior predictive
    "predictive_interval",
    "predictive_mean",
    "predictive_probability",
    "predictive_sd",
    # draws
    "posterior_predictive",
    "predictive_draws",
    "prior_predictive",
    # an estimator's predictions as a table
    "prediction_table",
    # settings
    "CHUNK_VALUES",
    "COUNT_FAMILIES",
    "MAX_COUNT_MEAN",
    "PRIOR_PREDICTIVE_DRAWS",
]

CHUNK_VALUES = 2**20
"""Draw-by-row values (8 MB of float64) computed at once by the summaries: rows go in blocks of
``max(1, CHUNK_VALUES // n_draws)``."""

PRIOR_PREDICTIVE_DRAWS = NUTS.num_samples * NUTS.num_chains
"""Draws of `prior_predictive` by default: as many as a posterior with the default NUTS settings."""

COUNT_FAMILIES = ("poisson", "negative_binomial")
"""The families whose targets are counts (log link): their predictive draws are integers, their
intervals integer quantiles, and they take an ``offset`` (log exposure) for new rows."""

MAX_COUNT_MEAN = 2.0**53
"""The largest mean count (e^η of a draw) whose interval `predictive_interval` computes: above it
counts are not whole float64 numbers, and the row's interval is NaN."""

_BISECTIONS = 64
"""Most bisection steps of a count interval's end: enough to close any gap between whole float64s."""

_LIKELIHOOD_PARAMETERS = {
    "gaussian": ("sigma",),
    "student_t": ("sigma", "df"),
    "negative_binomial": ("dispersion",),
}
_WHAT = {
    "sigma": "the noise sd",
    "df": "the Student-t's degrees of freedom",
    "dispersion": "the negative binomial's dispersion",
}


class _Draws:
    """The posterior draws a prediction needs, flattened over chains: ``coef`` (S, p), ``intercept``
    (S,), the family, and the likelihood's own parameters (``sigma``, ``df``, ``dispersion`` where
    the family has them), each (S,) or a number (fixed, from ``posterior.attrs``)."""

    def __init__(self, idata: az.InferenceData, family: str | None):
        if "posterior" not in idata.groups():
            raise ValueError("idata has no posterior group: predictions need posterior draws")
        posterior = idata.posterior
        self.shape = (posterior.sizes["chain"], posterior.sizes["draw"])
        self.coef = _flat(posterior["coef"])
        self.intercept = _flat(posterior["intercept"]) if "intercept" in posterior else None
        self.family = _family(idata) if family is None else check_param("family", family, Options(FAMILIES))
        self.sigma = self.df = self.dispersion = None
        for name in _LIKELIHOOD_PARAMETERS.get(self.family, ()):
            if name in posterior:
                value = _flat(posterior[name])
            elif name in posterior.attrs:
                value = float(posterior.attrs[name])
            else:
                raise ValueError(
                    f"the posterior has no {name} (neither a variable nor posterior.attrs[{name!r}]): "
                    f"{_WHAT[name]} is needed for the {self.family} predictive"
                )
            setattr(self, name, value)

    @property
    def size(self) -> int:
        return self.coef.shape[0]

    def linear_predictor(self, X: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
        """``intercept + X coef (+ offset)`` per draw, shape (S, n)."""
        mean = self.coef @ X.T
        if self.intercept is not None:
            mean += self.intercept[:, None]
        if offset is not None:
            mean += offset
        return mean

    def column(self, name: str) -> np.ndarray | float:
        """The parameter ``name`` per draw as a column (S, 1), or the fixed number."""
        value = getattr(self, name)
        return value[:, None] if isinstance(value, np.ndarray) else value

    def per_draw(self, name: str) -> np.ndarray:
        """The parameter ``name`` per draw, shape (S,) (a fixed number repeated)."""
        return np.broadcast_to(np.asarray(getattr(self, name), dtype=np.float64), (self.size,))

    def noise_sd(self):
        """σ per draw as a column (S, 1), or the fixed number."""
        return self.column("sigma")

    def blocks(self, X: np.ndarray, offset: np.ndarray | None = None):
        """``X`` in blocks of rows, so a block's (S, rows) arrays hold at most `CHUNK_VALUES` values,
        with the block's rows of ``offset`` (None without one)."""
        rows = max(1, CHUNK_VALUES // self.size)
        for start in range(0, X.shape[0], rows):
            block = slice(start, start + rows)
            yield block, X[block], None if offset is None else offset[block]


def _flat(variable) -> np.ndarray:
    values = np.asarray(variable.to_numpy(), dtype=np.float64)
    return values.reshape((-1, *values.shape[2:]))


def _family(idata: az.InferenceData) -> str:
    """The likelihood of the model behind ``idata``: ``posterior.attrs["family"]`` where the estimators
    put it; else gaussian when there is a noise sd, bernoulli when the observed targets are 0/1."""
    posterior = idata.posterior
    if posterior.attrs.get("family") in FAMILIES:
        return str(posterior.attrs["family"])
    if "sigma" in posterior or "sigma" in posterior.attrs:
        return "gaussian"
    if "observed_data" in idata.groups() and "y" in idata.observed_data:
        observed = idata.observed_data["y"].to_numpy()
        if np.isin(observed, (0.0, 1.0)).all():
            return "bernoulli"
    raise ValueError(
        "cannot tell the likelihood of idata (no posterior.attrs['family'], no sigma, no 0/1 observed_data): "
        f"pass family= one of {', '.join(map(repr, FAMILIES))}"
    )


def _matrix(X, p: int) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != p:
        raise ValueError(
            f"X must have shape (n_samples, {p}) for a posterior of {p} coefficients, got {X.shape}"
        )
    return X


def _offset(offset, draws: _Draws, n: int) -> np.ndarray | None:
    """``offset`` checked: None, or finite values of shape (n,) for a count family."""
    if offset is None:
        return None
    if draws.family not in COUNT_FAMILIES:
        raise ValueError(
            f"offset (a log exposure) applies to the count families {COUNT_FAMILIES}, not to {draws.family!r}"
        )
    offset = np.asarray(offset, dtype=np.float64)
    if offset.shape != (n,):
        raise ValueError(f"offset must have one value per row of X, shape ({n},), got shape {offset.shape}")
    if not np.all(np.isfinite(offset)):
        raise ValueError("offset has NaN or infinite values (it is the log of a positive exposure)")
    return offset


def _prob(prob) -> float:
    return check_params({"prob": prob}, {"prob": CONSTRAINTS["hdi_prob"]})["prob"]


def predictive_sd(idata: az.InferenceData, X, *, family: str | None = None, offset=None) -> np.ndarray:
    """Standard deviation of a new target under a model's posterior predictive.

    By the law of total variance, ``Var y* = Var_s m_s + E_s v_s``: the variance over the draws of
    each draw's mean ``m_s`` plus the mean of each draw's variance ``v_s`` (``ddof=0``), with
    ``η = intercept + x·coef`` (plus ``offset``):

    - gaussian: ``m = η``, ``v = σ²``; as scikit-learn's ``BayesianRidge.predict(return_std=True)``,
      the sd includes the noise;
    - student_t: ``m = η``, ``v = σ² ν / (ν − 2)`` (infinite if any draw has ``ν ≤ 2``);
    - bernoulli: ``m = sigmoid(η)``, ``v = m (1 − m)``;
    - poisson: ``m = e^η``, ``v = m``;
    - negative_binomial (NB2, dispersion ``d``): ``m = e^η``, ``v = m + d m²``.

    Parameters
    ----------
    idata : arviz.InferenceData
        A posterior (as for `predictive_draws`): ``coef`` (chain, draw, feature), optionally
        ``intercept``, and the likelihood's own parameters (``sigma``, ``df``, ``dispersion``) as
        variables or, fixed, in ``posterior.attrs``.
    X : array-like, shape (n_samples, n_features)
    family : {"gaussian", "bernoulli", "poisson", "negative_binomial", "student_t"}, optional
        As for `predictive_draws` (default ``posterior.attrs["family"]``).
    offset : array-like, shape (n_samples,), optional
        The log exposure of each row (count families only).

    Returns
    -------
    ndarray, shape (n_samples,)

    Examples
    --------
    Every draw of the line is the same, so the sd is the noise sd alone; with a second feature whose
    coefficient varies (sd 0.5), it adds ``0.5²·x²`` to the variance:

    >>> import arviz as az, numpy as np
    >>> from bayesreg.predictive import predictive_sd
    >>> rng = np.random.default_rng(0)
    >>> coef = np.stack([np.full((2, 2000), 1.0), rng.normal(0.0, 0.5, size=(2, 2000))], axis=-1)
    >>> idata = az.from_dict(posterior={"coef": coef}, dims={"coef": ["feature"]})
    >>> idata.posterior.attrs["sigma"] = 0.3
    >>> predictive_sd(idata, [[1.0, 0.0], [1.0, 2.0]]).round(2)
    array([0.3 , 1.04])

    A Poisson rate known exactly (one draw, log rate log 4): the sd of the count is √4 = 2, and an
    exposure of 4 (offset log 4) doubles it:

    >>> counts = az.from_dict(posterior={"coef": np.array([[[np.log(4.0)]]])}, dims={"coef": ["feature"]})
    >>> predictive_sd(counts, [[1.0], [1.0]], family="poisson", offset=[0.0, np.log(4.0)])
    array([2., 4.])
    """
    draws = _Draws(idata, family)
    X = _matrix(X, draws.coef.shape[1])
    offset = _offset(offset, draws, X.shape[0])
    if draws.family == "student_t" and np.any(draws.per_draw("df") <= 2.0):
        return np.full(X.shape[0], np.inf)  # a t with ν ≤ 2 has no finite variance
    sd = np.empty(X.shape[0])
    for rows, block, own in draws.blocks(X, offset):
        eta = draws.linear_predictor(block, own)
        if draws.family in ("gaussian", "student_t"):
            noise = np.square(draws.noise_sd())
            if draws.family == "student_t":
                df = draws.column("df")
                noise = noise * df / (df - 2.0)
            mean, variance = eta, np.broadcast_to(noise, eta.shape)
        elif draws.family == "bernoulli":
            mean = expit(eta)
            variance = mean * (1.0 - mean)
        else:
            mean = np.exp(eta)
            variance = mean if draws.family == "poisson" else mean + draws.column("dispersion") * mean**2
        sd[rows] = np.sqrt(mean.var(axis=0) + variance.mean(axis=0))
    return sd


def predictive_probability(idata: az.InferenceData, X) -> np.ndarray:
    """``P(y* = 1 | x)`` under a logistic model's posterior: the sigmoid of the linear predictor,
    averaged over the draws.

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior of a logistic model (``coef``, optionally ``intercept``).
    X : array-like, shape (n_samples, n_features)

    Returns
    -------
    ndarray, shape (n_samples,)

    Examples
    --------
    Two draws of the log-odds, 0 and 2: the probability is the mean of their sigmoids, not the sigmoid
    of their mean:

    >>> import arviz as az, numpy as np
    >>> from bayesreg.predictive import predictive_probability
    >>> idata = az.from_dict(posterior={"coef": np.array([[[0.0], [2.0]]])}, dims={"coef": ["feature"]})
    >>> p = predictive_probability(idata, [[1.0]])
    >>> p.round(4), round(float(1 / (1 + np.exp(-1.0))), 4)
    (array([0.6904]), 0.7311)
    """
    draws = _Draws(idata, "bernoulli")
    X = _matrix(X, draws.coef.shape[1])
    p = np.empty(X.shape[0])
    for rows, block, _ in draws.blocks(X):
        p[rows] = expit(draws.linear_predictor(block)).mean(axis=0)
    return p


def predictive_interval(
    idata: az.InferenceData,
    X,
    *,
    prob: float = HDI_PROB,
    family: str | None = None,
    offset=None,
) -> np.ndarray:
    """The central ``prob`` interval of the posterior predictive at each row of ``X``.

    Linear model: the interval of a new target ``y*``, whose predictive is the mixture of the normals
    ``N(μ_s, σ_s²)`` over the draws ``s``; its ``(1 − prob)/2`` and ``(1 + prob)/2`` quantiles are
    solved for exactly (Newton's method on the mixture's distribution function, kept inside a
    bracket), so the interval has no noise from drawing ``y*``. That costs two passes over the draws
    per Newton step: about 0.7 ms per row with 4000 draws on one CPU core (`predictive_sd` about 0.05).
    Student-t model: the same for the mixture of ``t_ν(μ_s, σ_s)``, bracketed by the draws' own
    quantiles (a mixture's quantile lies between its components').

    Count models (Poisson, negative binomial): the interval of a new count, the smallest integers
    ``k`` at which the mixture's distribution function ``mean_s P(y* ≤ k | θ_s)`` reaches each level,
    found exactly by bisection over the integers between the draws' own quantiles.

    Logistic model: the interval of the probability ``P(y* = 1 | x) = sigmoid(μ)`` over the draws (a
    new label is 0 or 1; its uncertainty is that of the probability): NumPy's quantiles (linear
    interpolation) of the draws of ``sigmoid(μ)``.

    Both are equal-tailed intervals, not highest-density ones (see the module's notes).

    Parameters
    ----------
    idata : arviz.InferenceData
        A linear or logistic posterior (as for `predictive_draws`).
    X : array-like, shape (n_samples, n_features)
    prob : float in (0, 1)
        Mass of the interval (default `~bayesreg.defaults.HDI_PROB`).
    family : {"gaussian", "bernoulli", "poisson", "negative_binomial", "student_t"}, optional
        The model's likelihood; by default read from ``idata`` (as for `predictive_draws`).
    offset : array-like, shape (n_samples,), optional
        The log exposure of each row (count families only; default 0, an exposure of 1).

    Returns
    -------
    ndarray, shape (n_samples, 2)
        Lower and upper ends (whole numbers for the count families; NaN for a row where a draw's
        mean count exceeds `MAX_COUNT_MEAN`).

    Examples
    --------
    The line known exactly and σ = 1: the 90% interval is ``μ ± 1.645``:

    >>> import arviz as az, numpy as np
    >>> from bayesreg.predictive import predictive_interval
    >>> idata = az.from_dict(posterior={"coef": np.ones((1, 10, 1)), "sigma": np.ones((1, 10))},
    ...                      dims={"coef": ["feature"]})
    >>> predictive_interval(idata, [[0.0], [2.0]], prob=0.9).round(4)
    array([[-1.6449,  1.6449],
           [ 0.3551,  3.6449]])
    """
    prob = _prob(prob)
    draws = _Draws(idata, family)
    X = _matrix(X, draws.coef.shape[1])
    offset = _offset(offset, draws, X.shape[0])
    levels = np.array([(1.0 - prob) / 2.0, (1.0 + prob) / 2.0])
    interval = np.empty((X.shape[0], 2))
    sd = draws.per_draw("sigma") if draws.family in ("gaussian", "student_t") else None
    df = draws.per_draw("df") if draws.family == "student_t" else None
    for rows, block, own in draws.blocks(X, offset):
        eta = draws.linear_predictor(block, own)
        if draws.family == "bernoulli":
            interval[rows] = np.quantile(expit(eta), levels, axis=0).T
        elif draws.family in COUNT_FAMILIES:
            interval[rows] = np.column_stack([_count_quantile(draws, eta, q) for q in levels])
        else:
            mean = np.ascontiguousarray(eta.T)  # (rows, S): draws along rows
            interval[rows] = np.column_stack([_mixture_quantile(mean, sd, q, df) for q in levels])
    return interval


def _count_quantile(draws: _Draws, eta: np.ndarray, q: float) -> np.ndarray:
    """The ``q`` quantile of the equal-weight mixture over the draws ``s`` of the count distributions
    with log means ``eta[s, i]`` (S, rows), per row ``i``: the smallest integer ``k`` with
    ``mean_s P(y ≤ k | θ_s) ≥ q``, by bisection between the least and the greatest of the draws' own
    ``q`` quantiles (the mixture's lies between them). A row where a draw's mean count exceeds
    `MAX_COUNT_MEAN` gets NaN: its counts are not whole float64 numbers."""
    with np.errstate(over="ignore"):
        mu = np.exp(eta)
    too_large = ~np.all(mu <= MAX_COUNT_MEAN, axis=0)  # NaN and inf included
    mu = np.where(too_large, 1.0, mu)
    if draws.family == "poisson":
        own = poisson.ppf(q, mu)

        def cdf(k):
            return gammaincc(k + 1.0, mu)  # P(y ≤ k) for y ~ Poisson(μ)

    else:
        r = 1.0 / draws.column("dispersion")  # NB2 as scipy's nbinom(n = r, p = r / (r + μ))
        p = r / (r + mu)
        own = nbinom.ppf(q, r, p)

        def cdf(k):
            return betainc(r, k + 1.0, p)

    low, high = own.min(axis=0), own.max(axis=0)
    for _ in range(_BISECTIONS):  # each halves the gap; counts beyond 2⁵³ are not whole floats
        if not np.any(low < high):
            break
        middle = np.floor(low + 0.5 * (high - low))
        reached = cdf(middle).mean(axis=0) >= q
        high = np.where(reached, middle, high)
        low = np.where(reached, low, middle + 1.0)
    return np.where(too_large, np.nan, high)


def _mixture_quantile(mean: np.ndarray, sd: np.ndarray, q: float, df: np.ndarray | None = None) -> np.ndarray:
    """The ``q`` quantile of the equal-weight mixture of ``N(mean[i, s], sd[s]²)`` (or, with ``df``,
    of ``t_df[s](mean[i, s], sd[s])``) over ``s``, per row ``i`` (``mean`` (rows, S), ``sd`` and
    ``df`` (S,)): Newton's method on ``F(x) − q`` from the normal approximation, a bisection step
    where a Newton step would leave the bracket. A row stops once its Newton step is below 1e-9 of
    its scale (the step taken then leaves an error far below float64 resolution: the convergence is
    quadratic)."""
    noise = float(np.mean(sd * sd))
    x = mean.mean(axis=1) + ndtri(q) * np.sqrt(mean.var(axis=1) + noise)
    if df is None:
        low = mean.min(axis=1) - 40.0 * sd.max()
        high = mean.max(axis=1) + 40.0 * sd.max()
    else:  # between the draws' own quantiles, wherever the heavy tails put them
        own = mean + sd * stdtrit(df, q)
        low, high = own.min(axis=1), own.max(axis=1)
        log_norm = gammaln(0.5 * (df + 1.0)) - gammaln(0.5 * df) - 0.5 * np.log(df * np.pi)
    x = np.clip(x, low, high)
    tolerance = 1e-9 * (np.abs(x) + np.sqrt(noise))
    inverse_sd = 1.0 / sd
    active = np.arange(mean.shape[0])
    for _ in range(200):
        at = x[active]
        z = (at[:, None] - mean[active]) * inverse_sd
        if df is None:
            excess = ndtr(z).mean(axis=1) - q
            density = (np.exp(-0.5 * z * z) * inverse_sd).mean(axis=1) / np.sqrt(2.0 * np.pi)
        else:
            excess = stdtr(df, z).mean(axis=1) - q
            log_density = log_norm - 0.5 * (df + 1.0) * np.log1p(z * z / df)
            density = (np.exp(log_density) * inverse_sd).mean(axis=1)
        lo = np.where(excess < 0, at, low[active])
        hi = np.where(excess > 0, at, high[active])
        with np.errstate(divide="ignore", invalid="ignore"):
            step = at - excess / density
        newton = np.isfinite(step) & (step >= lo) & (step <= hi)
        x[active] = np.where(excess == 0, at, np.where(newton, step, 0.5 * (lo + hi)))
        low[active], high[active] = lo, hi
        done = (newton & (np.abs(step - at) <= tolerance[active])) | (excess == 0)
        active = active[~done]
        if active.size == 0:
            break
    return x


def predictive_draws(
    idata: az.InferenceData, X, *, seed: int = 0, family: str | None = None, offset=None
) -> np.ndarray:
    """Posterior predictive draws of the targets at ``X``, one per posterior draw.

    With ``η = intercept + X coef`` (plus ``offset`` for the count models): linear model ``y* = η +
    σ ε``, ``ε ~ N(0, 1)``; Student-t model ``y* = η + σ t``, ``t ~ t_ν``; logistic model ``y* ~
    Bernoulli(sigmoid(η))``, as 0.0 / 1.0; Poisson model ``y* ~ Poisson(e^η)`` and negative binomial
    model ``y* ~ NB(mean e^η, Var = μ + α μ²)`` (a Poisson with a Gamma(1/α, 1/α)-distributed rate
    factor), as integers. The likelihood's own parameters (``sigma``, ``df``, ``dispersion``) come
    from the posterior's variables, or from ``posterior.attrs`` where they were fixed
    (`~bayesreg.sampling.sample_posterior` puts them there).

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior (``coef``, optionally ``intercept``, and the family's parameters).
    X : array-like, shape (n_samples, n_features)
    seed : int
        Seed for the noise draws (NumPy's ``default_rng``).
    family : {"gaussian", "bernoulli", "poisson", "negative_binomial", "student_t"}, optional
        The likelihood (`bayesreg.params.FAMILIES`; any other name is a ValueError). By default
        ``posterior.attrs["family"]`` (`~bayesreg.sampling.sample_posterior` and the estimators set
        it), else ``"gaussian"`` when the posterior has a noise sd and ``"bernoulli"`` when
        ``observed_data`` holds 0/1 targets; otherwise a ValueError asks for it.
    offset : array-like, shape (n_samples,), optional
        The log exposure of each row, added to ``η`` (count families only; default 0, exposure 1).

    Returns
    -------
    ndarray, shape (n_draws, n_samples)
        ``n_draws`` is chains × draws, chain after chain; int64 counts for the count families,
        float64 otherwise.

    Examples
    --------
    Around the posterior mean line ``0.5 + x₁ − 2x₂``, one draw per posterior draw and row:

    >>> import arviz as az, numpy as np
    >>> from bayesreg.predictive import predictive_draws
    >>> rng = np.random.default_rng(1)
    >>> posterior = {"coef": rng.normal([1.0, -2.0], 0.05, size=(2, 250, 2)),
    ...              "intercept": rng.normal(0.5, 0.05, size=(2, 250)), "sigma": np.full((2, 250), 0.3)}
    >>> idata = az.from_dict(posterior=posterior, coords={"feature": ["a", "b"]}, dims={"coef": ["feature"]})
    >>> y_new = predictive_draws(idata, [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], seed=0)
    >>> y_new.shape, np.round(y_new.mean(axis=0), 1).tolist()
    ((500, 3), [0.5, 1.5, -1.5])

    A logistic posterior (no σ; the family given): labels 0/1, about 88% ones where the log-odds are 2:

    >>> labels = predictive_draws(az.from_dict(posterior={"coef": np.full((1, 4000, 1), 2.0)}), [[1.0]],
    ...                           family="bernoulli")
    >>> sorted(np.unique(labels).tolist()), round(float(labels.mean()), 2)
    ([0.0, 1.0], 0.89)

    A Poisson posterior whose log rate is 1 (rate e ≈ 2.72); with an exposure of 2 (``offset = log
    2``) the counts double on average:

    >>> counts = predictive_draws(az.from_dict(posterior={"coef": np.ones((1, 4000, 1))}), [[1.0], [1.0]],
    ...                           family="poisson", offset=np.log([1.0, 2.0]))
    >>> counts.dtype, np.round(counts.mean(axis=0), 1).tolist()
    (dtype('int64'), [2.7, 5.4])
    """
    draws = _Draws(idata, family)
    X = _matrix(X, draws.coef.shape[1])
    return _simulate(draws, X, seed, _offset(offset, draws, X.shape[0]))[0]


def _simulate(
    draws: _Draws, X: np.ndarray, seed: int, offset: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """``y*`` (S, n) per draw and, for a logistic model, the probability (S, n)."""
    rng = np.random.default_rng(seed)
    eta = draws.linear_predictor(X, offset)
    if draws.family == "gaussian":
        return eta + draws.noise_sd() * rng.standard_normal(eta.shape), None
    if draws.family == "student_t":
        df = np.broadcast_to(draws.column("df"), eta.shape)
        return eta + draws.noise_sd() * rng.standard_t(df), None
    if draws.family == "poisson":
        return rng.poisson(np.exp(eta)), None
    if draws.family == "negative_binomial":
        r = 1.0 / draws.column("dispersion")
        return rng.negative_binomial(np.broadcast_to(r, eta.shape), r / (r + np.exp(eta))), None
    probability = expit(eta)
    return (rng.random(probability.shape) < probability).astype(np.float64), probability


def predictive_mean(idata: az.InferenceData, X, *, family: str | None = None, offset=None) -> np.ndarray:
    """The posterior predictive mean of a new target at each row of ``X``: ``E[y* | x]``, the mean over
    the draws of each draw's expected target.

    With ``η = intercept + x·coef`` (plus ``offset``): ``η`` for the linear model and the Student-t
    model (whose mean exists where ``ν > 1``: NaN if any draw has ``ν ≤ 1``), ``sigmoid(η)`` for the
    logistic model (`predictive_probability`), ``e^η`` for the Poisson and negative binomial models
    (their mean does not depend on the dispersion). Computed in blocks of rows, without drawing.

    Parameters
    ----------
    idata : arviz.InferenceData
        A posterior (as for `predictive_draws`).
    X : array-like, shape (n_samples, n_features)
    family : {"gaussian", "bernoulli", "poisson", "negative_binomial", "student_t"}, optional
        As for `predictive_draws`.
    offset : array-like, shape (n_samples,), optional
        The log exposure of each row (count families only).

    Returns
    -------
    ndarray, shape (n_samples,)

    Examples
    --------
    Two draws of a Poisson log rate, 0 and 2: the mean count is the mean of ``e^η``, not ``e`` to the
    mean ``η``:

    >>> import arviz as az, numpy as np
    >>> from bayesreg.predictive import predictive_mean
    >>> idata = az.from_dict(posterior={"coef": np.array([[[0.0], [2.0]]])}, dims={"coef": ["feature"]})
    >>> predictive_mean(idata, [[1.0]], family="poisson").round(4), round(float(np.exp(1.0)), 4)
    (array([4.1945]), 2.7183)
    """
    draws = _Draws(idata, family)
    X = _matrix(X, draws.coef.shape[1])
    offset = _offset(offset, draws, X.shape[0])
    if draws.family == "student_t" and np.any(draws.per_draw("df") <= 1.0):
        return np.full(X.shape[0], np.nan)  # a t with ν ≤ 1 has no mean
    link = {"bernoulli": expit, "poisson": np.exp, "negative_binomial": np.exp}.get(draws.family)
    mean = np.empty(X.shape[0])
    for rows, block, own in draws.blocks(X, offset):
        eta = draws.linear_predictor(block, own)
        mean[rows] = (eta if link is None else link(eta)).mean(axis=0)
    return mean


def posterior_predictive(
    idata: az.InferenceData,
    X,
    y=None,
    *,
    seed: int = 0,
    family: str | None = None,
    feature_names=None,
    offset=None,
) -> az.InferenceData:
    """Posterior predictive draws at ``X`` as ArviZ InferenceData, in ArviZ's groups.

    Without ``y`` (new rows): ``predictions`` (``y``, and ``probability`` for a logistic model, dims
    (chain, draw, obs)) and ``predictions_constant_data`` (``X``, dims (obs, feature)). With ``y``
    (rows whose targets are known, such as the training rows): ``posterior_predictive``,
    ``observed_data`` (``y``) and ``constant_data`` (``X``), the groups ``az.plot_ppc`` and
    ``az.loo_pit`` read. Either way the ``posterior`` group of ``idata`` comes along (the same
    dataset, not a copy). The draws are `predictive_draws`'s: the same seed gives the same numbers.

    The result holds n_draws × n_samples numbers per variable (32 MB for 4000 draws and 1000 rows):
    for summaries of many rows use `predictive_sd`, `predictive_interval` or `predictive_probability`.

    Parameters
    ----------
    idata : arviz.InferenceData
        A linear or logistic posterior.
    X : array-like, shape (n_samples, n_features)
    y : array-like, shape (n_samples,), optional
        The observed targets of those rows (0/1 for a logistic model).
    seed : int
    family : {"gaussian", "bernoulli", "poisson", "negative_binomial", "student_t"}, optional
        As for `predictive_draws`.
    feature_names : sequence of str, optional
        Coordinates of the ``feature`` dimension of ``X`` (default: those of the posterior's ``coef``).
    offset : array-like, shape (n_samples,), optional
        The log exposure of each row (count families only), kept in the constant data as ``offset``.

    Returns
    -------
    arviz.InferenceData

    Examples
    --------
    >>> import arviz as az, numpy as np
    >>> from bayesreg.predictive import posterior_predictive
    >>> rng = np.random.default_rng(1)
    >>> posterior = {"coef": rng.normal(1.0, 0.05, size=(2, 100, 1)), "sigma": np.full((2, 100), 0.3)}
    >>> idata = az.from_dict(posterior=posterior, coords={"feature": ["a"]}, dims={"coef": ["feature"]})
    >>> new = posterior_predictive(idata, [[0.0], [1.0], [2.0]])
    >>> new.groups(), new.predictions["y"].dims, new.predictions["y"].shape
    (['posterior', 'predictions', 'predictions_constant_data'], ('chain', 'draw', 'obs'), (2, 100, 3))
    >>> check = posterior_predictive(idata, [[0.0], [1.0], [2.0]], y=[0.1, 0.9, 2.2])
    >>> check.groups()
    ['posterior', 'posterior_predictive', 'observed_data', 'constant_data']
    """
    import arviz as az
    import xarray as xr

    draws = _Draws(idata, family)
    X = _matrix(X, draws.coef.shape[1])
    offset = _offset(offset, draws, X.shape[0])
    predicted, probability = _simulate(draws, X, seed, offset)
    n = X.shape[0]
    if feature_names is None:
        coef = idata.posterior["coef"]
        feature_names = coef.coords[coef.dims[-1]].to_numpy()
    obs = {"obs": np.arange(n)}
    variables = {"y": predicted}
    if probability is not None:
        variables["probability"] = probability
    draw_coords = {"chain": idata.posterior["chain"].to_numpy(), "draw": idata.posterior["draw"].to_numpy()}
    predictive = xr.Dataset(
        {k: (("chain", "draw", "obs"), v.reshape(*draws.shape, n)) for k, v in variables.items()},
        coords={**draw_coords, **obs},
        attrs={"family": draws.family, "seed": int(seed)},
    )
    constant = xr.Dataset(
        {"X": (("obs", "feature"), X)}, coords={**obs, "feature": [str(f) for f in feature_names]}
    )
    if offset is not None:
        constant["offset"] = (("obs",), offset)
    if y is None:
        return az.InferenceData(
            posterior=idata.posterior, predictions=predictive, predictions_constant_data=constant
        )
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if y.shape[0] != n:
        raise ValueError(f"y has {y.shape[0]} values but X has {n} rows")
    observed = xr.Dataset({"y": (("obs",), y)}, coords=obs)
    return az.InferenceData(
        posterior=idata.posterior,
        posterior_predictive=predictive,
        observed_data=observed,
        constant_data=constant,
    )


@program("prior-draws", static_argnames=("model", "static", "num_samples"), fast_compile=True)
def _prior_draws(model, static, seed, X, kwargs, *, num_samples):
    """Draws of every parameter site of ``model`` from its prior (the targets left out)."""
    model = functools.partial(model, **dict(static))
    key = jax.random.PRNGKey(seed)
    draws = Predictive(model, num_samples=num_samples)(key, X, None, **kwargs)
    return {name: value for name, value in draws.items() if name != "y"}


def prior_predictive(
    model,
    X,
    *,
    num_samples: int = PRIOR_PREDICTIVE_DRAWS,
    seed: int = 0,
    feature_names=None,
    **model_kwargs,
) -> az.InferenceData:
    """Prior and prior predictive draws of a model of `bayesreg.models` at the rows ``X``.

    The parameters (``coef``, ``intercept``, ``sigma``, ``df``, ``dispersion`` where they are sites)
    are drawn from the prior
    by numpyro's ``Predictive`` on ``model`` itself (one compiled program per model, settings and
    number of draws); a new target at each row is then drawn given each parameter draw, as
    `predictive_draws` does for posterior draws.

    The estimators' intercept has a flat (improper) prior, from which nothing can be drawn: pass
    ``intercept_prior`` (a numpyro distribution) or ``fit_intercept=False``.

    Parameters
    ----------
    model : callable
        A model of `~bayesreg.models.FAMILY_OF_MODEL` (linear, logistic, Poisson, negative binomial,
        Student-t).
    X : array-like, shape (n_samples, n_features)
    num_samples : int
        Draws (default `PRIOR_PREDICTIVE_DRAWS`).
    seed : int
        Seed of the parameter draws (JAX) and of the targets given them (NumPy).
    feature_names : sequence of str, optional
        Coordinates of the ``feature`` dimension (default ``x0, x1, ...``).
    **model_kwargs
        The model's keywords: ``prior`` (a `~bayesreg.priors.Prior`), ``sigma``, ``df``,
        ``dispersion`` (each a number or a distribution), ``offset`` (the count models' log exposure,
        one per row), ``intercept_prior``, ``fit_intercept``.

    Returns
    -------
    arviz.InferenceData
        ``prior`` (the parameter draws, dims (chain, draw, ...) with one chain), ``prior_predictive``
        (``y`` and, for a logistic model, ``probability``, dims (chain, draw, obs)) and
        ``constant_data`` (``X``).

    Examples
    --------
    A Normal(0, 1) prior on one weight, an intercept ~ Normal(0, 2) and σ = 0.5: at x = 3 the prior
    predictive of y is normal with variance 0.25 + 3² + 2² = 13.25:

    >>> import numpy as np
    >>> import numpyro.distributions as dist
    >>> from bayesreg.models import linear_regression
    >>> from bayesreg.predictive import prior_predictive
    >>> from bayesreg.priors import prior_from_penalty
    >>> prior = prior_from_penalty("gaussian", 1.0, convention="book")
    >>> draws = prior_predictive(linear_regression, [[3.0]], num_samples=20000, prior=prior, sigma=0.5,
    ...                          intercept_prior=dist.Normal(0.0, 2.0))
    >>> draws.groups()
    ['prior', 'prior_predictive', 'constant_data']
    >>> round(float(draws.prior_predictive["y"].var()), 1)
    13.2
    """
    family = FAMILY_OF_MODEL.get(model)
    if family is None:
        names = ", ".join(model.__name__ for model in FAMILY_OF_MODEL)
        raise ValueError(f"prior_predictive takes a per-observation model of bayesreg.models ({names})")
    num_samples = check_params({"num_samples": num_samples, "seed": seed})["num_samples"]
    if model_kwargs.get("prior") is None:
        raise ValueError("the prior on coef is flat (prior=None): it has no prior predictive; pass a Prior")
    if model_kwargs.get("fit_intercept", True) and model_kwargs.get("intercept_prior") is None:
        raise ValueError(
            "the intercept's prior is flat (improper), so y has no prior predictive: pass intercept_prior= "
            "a numpyro distribution (e.g. numpyro.distributions.Normal(0.0, 10.0)), or fit_intercept=False"
        )
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-d (n_samples, n_features), got shape {X.shape}")
    offset = model_kwargs.pop("offset", None)  # per row: it enters the targets' draws, not the parameters'
    dynamic, static = split_static(model_kwargs)
    with jax.enable_x64(True):
        rows, dynamic = as_arrays((X[:1], dynamic))  # the parameters do not depend on the rows
        seed_array = np.asarray(int(seed), dtype=np.int64)
        params = _prior_draws(model, static, seed_array, rows, dynamic, num_samples=num_samples)
    params = {name: np.asarray(value, dtype=np.float64)[None] for name, value in params.items()}
    posterior_like = dict(params)
    defaults = {"sigma": 1.0}  # the linear and Student-t models' default noise sd
    attrs = {}
    for name in _LIKELIHOOD_PARAMETERS.get(family, ()):
        value = model_kwargs.get(name, defaults.get(name))
        if value is not None and not isinstance(value, dist.Distribution):
            attrs[name] = float(value)
    import arviz as az
    import xarray as xr

    names = [f"x{j}" for j in range(X.shape[1])] if feature_names is None else [str(f) for f in feature_names]
    prior = az.from_dict(
        posterior=posterior_like, coords={"feature": names}, dims={"coef": ["feature"]}
    ).posterior
    prior.attrs.update(attrs)
    as_posterior = az.InferenceData(posterior=prior)
    draws = _Draws(as_posterior, family)
    predicted, probability = _simulate(draws, X, seed, _offset(offset, draws, X.shape[0]))
    n = X.shape[0]
    variables = {"y": predicted} if probability is None else {"y": predicted, "probability": probability}
    coords = {"chain": prior["chain"].to_numpy(), "draw": prior["draw"].to_numpy(), "obs": np.arange(n)}
    predictive = xr.Dataset(
        {k: (("chain", "draw", "obs"), v.reshape(1, num_samples, n)) for k, v in variables.items()},
        coords=coords,
        attrs={"family": family, "seed": int(seed)},
    )
    constant = xr.Dataset({"X": (("obs", "feature"), X)}, coords={"obs": np.arange(n), "feature": names})
    return az.InferenceData(prior=prior, prior_predictive=predictive, constant_data=constant)


def prediction_table(
    estimator, rows: pd.DataFrame, *, prob: float = HDI_PROB, offset: ArrayLike | None = None
) -> pd.DataFrame:
    """A fitted estimator's predictions for the rows of a DataFrame, one row each, same index.

    Columns are matched to the model's features **by name** (``feature_names_in_``): their order in
    ``rows`` does not matter, missing ones are refused with their names, and columns the model does
    not use (the target, an identifier) are ignored and listed in ``attrs["ignored_columns"]``. A
    model fitted without column names takes ``rows`` by position and needs exactly its number of
    columns.

    Parameters
    ----------
    estimator : BayesianLinearRegression or BayesianLogisticRegression
        Fitted (or loaded with `bayesreg.load`).
    rows : DataFrame, shape (n_samples, any columns)
    prob : float in (0, 1)
        Mass of the central intervals (default `~bayesreg.defaults.HDI_PROB`).
    offset : array-like, shape (n_samples,), optional
        The log exposure of each row, for a count model (`BayesianPoissonRegression`,
        `BayesianNegativeBinomialRegression`): passed to its ``predict`` and ``predict_interval``.

    Returns
    -------
    DataFrame
        Linear model: ``mean`` and, with a posterior (``method="nuts"``), ``sd`` (including the
        noise), ``lower``, ``upper`` (the central ``prob`` interval of a new target). Logistic model:
        ``probability`` (of the modelled class ``classes_[1]``), with a posterior ``lower`` and
        ``upper`` (the central interval of that probability), and ``predicted`` (the more probable
        label). A MAP fit has no uncertainty, so its table has no sd or interval columns.
        ``attrs``: ``prob``, ``ignored_columns``, and for a logistic model ``modelled_class``.

    Raises
    ------
    bayesreg.data.DataError
        Missing feature columns (named), or non-numeric / NaN cells (named by `bayesreg.data`).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from bayesreg import BayesianLinearRegression
    >>> from bayesreg.predictive import prediction_table
    >>> frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    >>> est = BayesianLinearRegression(prior="gaussian", alpha=1e-6).fit(frame, [1.0, 2.0, 5.0, 6.0])
    >>> new = pd.DataFrame({"id": ["p", "q"], "b": [1.0, 0.0], "a": [4.0, 5.0]})  # reordered, plus an id
    >>> table = prediction_table(est, new)
    >>> table.round(3), table.attrs["ignored_columns"]
    (    mean
    0  9.0
    1  10.0, ['id'])
    >>> prediction_table(est, new[["id", "b"]])
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: the model's feature column 'a' is missing from the new data (it has: 'id', 'b')
    """
    from bayesreg.data import DataError

    if not isinstance(rows, pd.DataFrame):
        raise TypeError(f"rows must be a pandas DataFrame, got {type(rows).__name__}")
    prob = _prob(prob)
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        if rows.shape[1] != estimator.n_features_in_:
            raise DataError(
                f"the model was fitted without column names on {estimator.n_features_in_} columns; "
                f"the new data has {rows.shape[1]}"
            )
        X, ignored = rows.to_numpy(), []
    else:
        names = [str(name) for name in names]
        columns = [str(c) for c in rows.columns]
        missing = [name for name in names if name not in columns]
        if missing:
            have = ", ".join(map(repr, columns))
            what = (
                "column " + repr(missing[0]) + " is"
                if len(missing) == 1
                else "columns " + ", ".join(map(repr, missing)) + " are"
            )
            raise DataError(f"the model's feature {what} missing from the new data (it has: {have})")
        ignored = [c for c in columns if c not in names]
        X = rows.set_axis(columns, axis=1)[names]
    table = pd.DataFrame(index=rows.index)
    uncertain = hasattr(estimator, "idata_")
    at = {} if offset is None else {"offset": offset}  # only the count models take an offset
    if hasattr(estimator, "classes_"):  # a classifier: the logistic model
        if offset is not None:
            raise TypeError("a logistic model takes no offset")
        table["probability"] = estimator.predict_proba(X)[:, 1]
        if uncertain:
            table[["lower", "upper"]] = estimator.predict_interval(X, prob=prob)
        table["predicted"] = estimator.classes_[(table["probability"].to_numpy() > 0.5).astype(int)]
        modelled = estimator.classes_[1]  # a NumPy scalar, or a str for text labels (object dtype)
        table.attrs["modelled_class"] = modelled.item() if isinstance(modelled, np.generic) else modelled
    else:
        if uncertain:
            table["mean"], table["sd"] = estimator.predict(X, return_std=True, **at)
            table[["lower", "upper"]] = estimator.predict_interval(X, prob=prob, **at)
        else:
            table["mean"] = estimator.predict(X, **at)
    table.attrs.update(prob=prob, ignored_columns=ignored)
    return table
