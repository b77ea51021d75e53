"""PSIS-LOO from a posterior in chunks of rows: n numbers kept instead of the n × draws log-likelihood.

ArviZ's `arviz.loo` needs the per-observation log-likelihood of every draw, n × draws float64s
(611 MB for 20,000 rows and 4,000 draws, 6.1 GB for 200,000). Pareto-smoothed importance sampling
works on one observation at a time, so `pointwise_loo` computes that matrix a block of rows at a
time (one compiled program of a fixed block shape, the last block padded), smooths each row's
importance weights as ArviZ's `arviz.psislw` does, and keeps per observation only the pointwise
elpd, the effective number of parameters, the Pareto k̂ and the effective sample size of the LOO
weights (`PointwiseLOO`). The block holds at most `CHUNK_BYTES` of log-likelihood values, so
the peak memory depends on the number of draws, not on n × draws.

Only the tail of a row is smoothed (its M + 1 largest log ratios, M = ⌈min(S/5, 3√(S/reff))⌉
of S draws), so a row's LOO values need its tail and a few sums over the row, not its smoothed
weights: ``np.partition`` finds the tail, one compiled program fits the generalised Pareto
distribution to the tails of a whole block (ArviZ's empirical Bayes fit, vectorised) and sums
the smoothed and raw tails, and another sums the raw ratios over each whole row (so the body's
sums, the draws outside the tail, are the row's minus the tail's). Rows ArviZ treats apart (ties
in the tail, a cutoff below the smallest positive float, too few draws) go through `arviz.psislw`
itself. The log-likelihood block of `~bayesreg.models.linear_regression` is written out in one
compiled program (one matrix product, log σ once per draw); other models' blocks come from
numpyro's ``log_likelihood`` of the model.

Where each step runs follows what it cost on a CPU without AVX-512 (4,000 draws, 10 columns):
the body's exponentials, one per draw, are most of a row's work, and XLA's vectorised float64
``exp`` took 1.75 ns a value where NumPy's, vectorised only with AVX-512, took 8 ns (0.7 ns with
it); the selection of the tail stays in NumPy, whose ``partition`` took 9 µs a row where XLA's
``top_k`` and sort took over 600. Each thread partitions its blocks in one array, reused,
because a new 8 MiB array per block cost up to 5 page faults a row.

`start_pointwise_loo` runs `pointwise_loo` in a thread of its own, which waits for draws still
being computed: `~bayesreg.sampling.fit_posterior` starts it as soon as collapsed chains are
dispatched, so that their PSIS-LOO is computed while the MAP is found.

What is kept is enough for ArviZ: `PointwiseLOO.elpd_data` is the `arviz.ELPDData` that
``arviz.loo(idata, pointwise=True)`` returns on the full matrix (the same numbers to rounding), and
`arviz.compare` takes a dict of those. In an InferenceData the values live in the group
`LOO_GROUP` (`add_loo`), which survives ``to_netcdf`` / ``from_netcdf``; `loo` answers from the
full ``log_likelihood`` group when there is one and from that group otherwise, so::

    import arviz as az
    from bayesreg.loo import loo
    az.compare({"lasso": loo(az.from_netcdf("lasso/posterior.nc")),
                "ridge": loo(az.from_netcdf("ridge/posterior.nc"))})

works on saved fits with or without their log-likelihood.
"""

from __future__ import annotations

import concurrent.futures
import functools
import os
import threading
import warnings
from typing import TYPE_CHECKING, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
from numpyro.infer import log_likelihood

from bayesreg.engine.arrays import as_arrays, split_static
from bayesreg.engine.programs import program
from bayesreg.models import OBSERVATION_KEYWORDS, linear_regression

if TYPE_CHECKING:  # arviz is imported where it is used: `import bayesreg` does not load it
    import arviz as az

__all__ = [
    "CHUNK_BYTES",
    "LOO_GROUP",
    "PendingLOO",
    "PointwiseLOO",
    "add_loo",
    "chunk_rows",
    "loo",
    "pointwise_loo",
    "psis",
    "start_pointwise_loo",
]

CHUNK_BYTES = 8 * 2**20
"""Bytes of log-likelihood values (rows × draws × 8) one block of `pointwise_loo` holds: 8 MiB.

The smoothing makes a partitioned copy of a block, and each of `pointwise_loo`'s threads works
on its own block: with one block computed while the present one was smoothed, `pointwise_loo`
on 4 × 1,000 draws raised the peak resident memory of a process by about 180 MB with this
budget, for 20,000 rows and for 200,000 alike (with 32 MiB, by about 550 MB: the allocator keeps
blocks of that size)."""

_TRACING = threading.Lock()
"""Held while a block's log-likelihood program is called: numpyro keeps its effect handlers in one
stack for the whole process, so two threads tracing the model at once (the first call of a block
shape, or its export) would see each other's sample sites. The call only dispatches the
computation (JAX runs it asynchronously), so the blocks are still computed in parallel."""

_TAIL_WIDTH = 32  # columns of the tail program: a multiple of this
_GROUP = 16  # tail values per log1p in the generalised Pareto fit's grid
_BODY_SHARE = 1e-3  # below this share of a row's sum, its body is summed directly (`_loo_block`)

LOO_GROUP = "loo"
"""The InferenceData group of the pointwise LOO values (`add_loo`, read by `loo`)."""

_SAVED = ("elpd_loo", "p_loo", "pareto_k", "ess")  # the per-observation fields of PointwiseLOO
_SCALES = {"log": 1.0, "negative_log": -1.0, "deviance": -2.0}  # ArviZ's ``scale`` options


class PointwiseLOO(NamedTuple):
    """PSIS-LOO per observation, as `pointwise_loo` computes it (log scale).

    Attributes
    ----------
    elpd_loo : ndarray, shape (n_samples,)
        ``log p(y_i | y_-i)`` estimated by PSIS: ArviZ's ``loo_i`` on the log scale.
    p_loo : ndarray, shape (n_samples,)
        ``lppd_i − elpd_loo_i``, with ``lppd_i = log mean_s p(y_i | θ_s)``; they sum to ArviZ's
        ``p_loo``.
    pareto_k : ndarray, shape (n_samples,)
        The Pareto shape k̂ of each observation's importance weights (ArviZ's ``pareto_k``).
    ess : ndarray, shape (n_samples,)
        Effective sample size of each observation's smoothed LOO weights, ``reff / Σ_s w_s²`` for
        normalised weights ``w`` (the ``n_eff`` of the R package loo).
    n_samples : int
        Draws behind each value (chains × draws per chain).
    reff : float
        Relative efficiency of the draws (mean ESS / draws over all posterior variables), as
        `arviz.loo` computes it; 1 for one chain.

    Examples
    --------
    `pointwise_loo` makes one; its fields:

    >>> from bayesreg.loo import PointwiseLOO
    >>> PointwiseLOO._fields
    ('elpd_loo', 'p_loo', 'pareto_k', 'ess', 'n_samples', 'reff')
    """

    elpd_loo: np.ndarray
    p_loo: np.ndarray
    pareto_k: np.ndarray
    ess: np.ndarray
    n_samples: int
    reff: float

    def elpd_data(self, *, scale: str = "log", obs=None) -> az.ELPDData:
        """The `arviz.ELPDData` that ``arviz.loo(idata, pointwise=True, scale=scale)`` returns.

        Parameters
        ----------
        scale : {"log", "negative_log", "deviance"}
            ArviZ's output scale.
        obs : array, shape (n_samples,), optional
            Coordinates of the ``obs`` dimension of ``loo_i`` and ``pareto_k`` (default 0 .. n−1).

        Returns
        -------
        arviz.ELPDData
            ``elpd_loo``, ``se``, ``p_loo``, ``n_samples``, ``n_data_points``, ``warning``,
            ``loo_i``, ``pareto_k``, ``scale``, ``good_k``, computed with ArviZ's formulas:
            ``se = √(n var(loo_i))``, ``warning`` when some k̂ exceeds
            ``good_k = min(1 − 1/log10(S), 0.7)`` (and, as ArviZ does, a UserWarning then).

        Examples
        --------
        Two observations from 100 draws, the second with an influential k̂:

        >>> import warnings
        >>> import numpy as np
        >>> from bayesreg.loo import PointwiseLOO
        >>> result = PointwiseLOO(np.array([-1.0, -3.0]), np.array([0.1, 0.5]), np.array([0.2, 0.9]),
        ...                       np.array([90.0, 12.0]), n_samples=100, reff=0.9)
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     elpd, deviance = result.elpd_data(), result.elpd_data(scale="deviance")
        >>> float(elpd["elpd_loo"]), float(elpd["se"]), float(elpd["p_loo"]), bool(elpd["warning"])
        (-4.0, 1.414..., 0.6, True)
        >>> float(deviance["elpd_loo"]), deviance["scale"]
        (8.0, 'deviance')
        """
        import xarray as xr

        if scale not in _SCALES:
            raise ValueError(f"scale must be one of {sorted(_SCALES)}, got {scale!r}")
        n = len(self.elpd_loo)
        coords = {"obs": np.arange(n) if obs is None else np.asarray(obs)}
        loo_i = _SCALES[scale] * np.asarray(self.elpd_loo)
        loo_i = xr.DataArray(loo_i, dims=["obs"], coords=coords, name="loo_i")
        pareto_k = xr.DataArray(np.asarray(self.pareto_k), dims=["obs"], coords=coords, name="pareto_shape")
        good_k = min(1 - 1 / np.log10(self.n_samples), 0.7)
        warn = bool(np.any(self.pareto_k > good_k))
        if warn:
            warnings.warn(
                f"Estimated shape parameter of Pareto distribution is greater than {good_k:.2f} for "
                f"{int(np.sum(self.pareto_k > good_k))} of {n} observations: importance sampling is "
                "unreliable for them (influential observations, or a model that does not fit them).",
                UserWarning,
                stacklevel=2,
            )
        return _elpd_data(
            elpd_loo=loo_i.values.sum(),
            se=(n * np.var(loo_i.values)) ** 0.5,
            p_loo=np.sum(self.p_loo),
            n_samples=int(self.n_samples),
            n_data_points=np.int64(n),
            warning=warn,
            loo_i=loo_i,
            pareto_k=pareto_k,
            scale=scale,
            good_k=np.float64(good_k),
        )


def chunk_rows(num_draws: int, chunk_bytes: int = CHUNK_BYTES) -> int:
    """Rows per block of `pointwise_loo`: as many as fit ``chunk_bytes`` of float64 values.

    Parameters
    ----------
    num_draws : int
        Draws of the posterior (chains × draws per chain).
    chunk_bytes : int
        The budget of one block's log-likelihood values (default `CHUNK_BYTES`).

    Returns
    -------
    int
        ``max(1, chunk_bytes // (8 num_draws))``.

    Examples
    --------
    4 chains of 1,000 draws: 262 rows a block within 8 MiB, 2,097 within 64 MiB:

    >>> from bayesreg.loo import chunk_rows
    >>> chunk_rows(4000), chunk_rows(4000, 64 * 2**20)
    (262, 2097)
    """
    if num_draws < 1 or chunk_bytes < 1:
        raise ValueError(f"num_draws and chunk_bytes must be positive, got {num_draws} and {chunk_bytes}")
    return max(1, chunk_bytes // (8 * num_draws))


@program("loo-loglik", static_argnames=("model", "static", "var_name"))
def _block_log_likelihood(model, static, draws, X, y, kwargs, row_kwargs=None, *, var_name):
    """Log-likelihood of each row of a block at each draw (``draws`` shaped (chain, draw, ...),
    taken chain after chain), shaped (rows, draws): one observation's draws contiguous.

    numpyro's `log_likelihood` vectorised over the draws, mapped over the rows (one-row data sets
    of the per-observation model) so that XLA lays the values out row by row: the same values as
    transposing its (draws, rows) result, where that transposition took as long again as the
    log-likelihood itself. ``row_kwargs`` (None: none) are the block's rows of the keywords with one
    value per observation (`~bayesreg.models.OBSERVATION_KEYWORDS`, e.g. an offset), mapped with the
    rows."""
    model = functools.partial(model, **dict(static))
    draws = {k: v.reshape((-1, *v.shape[2:])) for k, v in draws.items()}
    row_kwargs = {} if row_kwargs is None else row_kwargs

    def row(x, target, own):
        own = {k: v[None] for k, v in own.items()}
        values = log_likelihood(model, draws, x[None], target[None], parallel=True, **kwargs, **own)
        return values[var_name][:, 0]

    return jax.vmap(row)(X, y, row_kwargs)


@program("loo-gaussian", model_argname=None)
def _gaussian_block(X, y, coef, intercept, sigma):
    """`linear_regression`'s log-likelihood of each row of a block at each draw, shaped (rows,
    draws), written out: ``log N(y_i | intercept_s + x_i·coef_s, sigma_s)`` by numpyro's
    `~numpyro.distributions.Normal` formula (``−z²/2 − log(√(2π) σ)``, ``z = (y − mean) / σ``),
    with ``coef`` (draws, features) and ``intercept``, ``sigma`` (draws,).

    numpyro's ``log_likelihood`` of the model takes the logarithm of σ once per value (the
    distribution's scale is broadcast to the batch) and evaluates the mean as one row's matrix
    product at a time: 20 µs of CPU a row at 4,000 draws, against 3.8 µs for this program's one
    matrix product and one logarithm per draw. ``z`` multiplies by ``1 / σ`` (a division per
    draw; a division per value took 13 µs of CPU a row against 8), within an ulp of numpyro's
    quotient."""
    z = (y[:, None] - (X @ coef.T + intercept)) * (1.0 / sigma)  # one division per draw, not per value
    return -0.5 * z * z - jnp.log(jnp.sqrt(2 * jnp.pi) * sigma)


def _gaussian_draws(model, draws: dict, model_kwargs: dict) -> tuple | None:
    """``(coef, intercept, sigma)`` of `_gaussian_block`, each over all draws (chain after chain),
    when ``model`` is `linear_regression` and ``draws`` hold its sites; None otherwise (the block
    then goes through numpyro's ``log_likelihood`` of the model)."""
    if not _writes_out(model, draws, model_kwargs):
        return None
    coef = draws["coef"]
    total = coef.shape[0] * coef.shape[1]
    fit_intercept = model_kwargs.get("fit_intercept", True)
    intercept = draws["intercept"].reshape(total) if fit_intercept else np.zeros(total)
    sigma = model_kwargs.get("sigma", 1.0)
    sampled = isinstance(sigma, dist.Distribution)
    sigma = draws["sigma"].reshape(total) if sampled else np.full(total, float(sigma))
    return coef.reshape(total, -1), intercept, sigma


def _observation_kwargs(kwargs: dict, n: int) -> dict:
    """The keywords of ``kwargs`` with one value per observation
    (`~bayesreg.models.OBSERVATION_KEYWORDS`, None ones left out) as float64 NumPy arrays of shape
    (n,), checked: a block of rows takes its rows of them."""
    per_row = {}
    for name in OBSERVATION_KEYWORDS:
        if kwargs.get(name) is None:
            continue
        values = np.asarray(kwargs[name], dtype=np.float64)
        if values.shape != (n,):
            raise ValueError(f"{name} must have one value per row, shape ({n},), got shape {values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} has NaN or infinite values: PSIS-LOO needs finite data")
        per_row[name] = values
    return per_row


def _writes_out(model, draws: dict, model_kwargs: dict) -> bool:
    """Whether `pointwise_loo` computes the blocks of ``model`` by `_gaussian_block` (from the
    draws' names and the model's keywords, without reading the draws' values)."""
    if model is not linear_regression or "coef" not in draws:
        return False
    if model_kwargs.get("fit_intercept", True) and "intercept" not in draws:
        return False
    return not isinstance(model_kwargs.get("sigma", 1.0), dist.Distribution) or "sigma" in draws


@program("psis-tails", model_argname=None)
def _smoothed_tails(values, exp_values, log_survival, tail):
    """ArviZ's generalised Pareto fit and smoothing of the tail of each row (`arviz.psislw`'s
    ``_gpdfit`` and ``_gpinv``, Zhang & Stephens 2009 with ArviZ's weak prior on k), vectorised.

    ``values`` (rows, width) holds, ascending, each row's cutoff and its ``tail`` largest shifted log
    ratios (the largest 0), then padding (any values: ignored), so that rows with tails of nearby
    lengths share one program; ``exp_values`` their exponentials, computed by NumPy: the tail's
    ``exp(x) − exp(cutoff)`` keeps few digits for a row of nearly equal ratios, and XLA's ``exp``,
    one ulp off NumPy's here and there, moved k̂ by 4e-11; ``log_survival`` (width − 1,) is
    ``log1p(−q)`` at the tail's plotting positions ``q = (j + 1/2) / tail`` (zero on the padding).

    Returns k̂ (rows,); the exponentials of the smoothed and truncated tail, ``min(σ F⁻¹(q) +
    exp(cutoff), 1)`` (rows, width − 1; the raw tail's where the fit failed, NaN for a non-positive
    scale, as ArviZ), so that the sums over the tail below need no logarithm or exponential; sums
    over the tail, shaped (5, rows): ``Σ exp(s)``, ``Σ exp(2s)`` and ``Σ exp(s − x)`` of the
    smoothed values ``s`` and the raw ones ``x``, then ``Σ exp(x)`` and ``Σ exp(2x)``; and the rows
    whose grid products overflowed."""
    prior_bs, prior_k = 3, 10
    width = values.shape[1] - 1
    n = tail.astype(values.dtype)
    in_tail = jnp.arange(width) < tail
    exp_cutoff = exp_values[:, :1]
    exp_raw = exp_values[:, 1:]
    tails = jnp.where(in_tail, exp_raw - exp_cutoff, 0.0)  # its zeros add log1p(0) = 0 below
    m_est = 30 + jnp.floor(jnp.sqrt(n))
    grid = jnp.arange(1, 31 + int(width**0.5), dtype=values.dtype)
    in_grid = grid <= m_est
    quartile = jnp.take(tails, jnp.floor(n / 4 + 0.5).astype(int) - 1, axis=1)[:, None]
    b = (1 - jnp.sqrt(m_est / (grid - 0.5))) / (prior_bs * quartile) + 1 / jnp.take(tails, tail - 1, axis=1)[
        :, None
    ]
    # k(b) = mean log1p(−b x) on the grid, one logarithm per _GROUP values: their product P of
    # factors 1 − b x (relative precision, as each factor's; its log where P is far from 1) and
    # u = P − 1 by u ← u + a (1 + u), a = −b x of one sign for each b (relative precision while
    # |u| < 1/2; its log1p there)
    groups = jnp.pad(tails, ((0, 0), (0, -width % _GROUP))).reshape(tails.shape[0], _GROUP, -1)
    u = product = None
    for g in range(_GROUP):  # the values g, g + width / _GROUP, ... make a group
        factor = -b[:, :, None] * groups[:, None, g, :]
        u, product = (factor, 1 + factor) if g == 0 else (u + factor * (1 + u), product * (1 + factor))
    near_one = jnp.abs(u) < 0.5
    mantissa, exponent = jnp.frexp(product)  # log P = log1p(m − 1) + e log 2, m − 1 exact
    logs = jnp.log1p(jnp.where(near_one, u, mantissa - 1)) + jnp.where(near_one, 0.0, exponent * np.log(2.0))
    k = logs.sum(axis=-1) / n
    # from the product, which XLA keeps (a test on u would recompute its chain of _GROUP steps)
    overflow = jnp.any(in_grid & ~(jnp.abs(product) < 1e300).all(axis=-1), axis=-1)
    len_scale = jnp.where(in_grid, n * (jnp.log(-(b / k)) - k - 1), -jnp.inf)
    # ArviZ's 1 / Σ_j exp(L_j − L_i), as exp(L_i − max L) / Σ_j exp(L_j − max L)
    scaled = jnp.exp(len_scale - len_scale.max(axis=-1, keepdims=True))
    weights = scaled / scaled.sum(axis=-1, keepdims=True)
    weights = jnp.where(in_grid & (weights >= 10 * jnp.finfo(values.dtype).eps), weights, 0.0)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    b_post = jnp.sum(jnp.where(weights > 0, b * weights, 0.0), axis=-1, keepdims=True)
    k_post = jnp.log1p(-b_post * tails).sum(axis=-1, keepdims=True) / n
    sigma = -k_post / b_post
    k_post = (n * k_post + prior_k * 0.5) / (n + prior_k)
    # ArviZ's inverse CDF of the fitted distribution at the tail's plotting positions, and its
    # smoothed tail log(σ F⁻¹(q) + exp(cutoff)) truncated at 0 (the largest raw weight), as exponentials
    near_zero = jnp.abs(k_post) < jnp.finfo(values.dtype).eps
    shape = jnp.where(near_zero, 1.0, k_post)
    unit = jnp.where(near_zero, -log_survival, jnp.expm1(-shape * log_survival) / shape)
    smoothed = jnp.where(sigma > 0, jnp.minimum(unit * sigma + exp_cutoff, 1.0), jnp.nan)
    smoothed = jnp.where(jnp.isfinite(k_post), smoothed, exp_raw)  # no fit: no smoothing
    terms = (smoothed, smoothed * smoothed, smoothed / exp_raw, exp_raw, exp_raw * exp_raw)
    sums = [jnp.where(in_tail, term, 0.0).sum(axis=-1) for term in terms]
    return k_post[:, 0], smoothed, jnp.stack(sums), overflow


@program("psis-sums", model_argname=None)
def _row_sums(loglik):
    """Each row's smallest log-likelihood ``low`` (rows,) and sums over the whole row of ``loglik``
    (rows, draws) of the raw importance ratios ``r = exp(x)``, ``x = low − ll``, shaped (3, rows):
    ``Σ r``, ``Σ r²`` and ``Σ 1 / r`` (inf where a ratio underflows: the caller then takes
    `_logsumexp`). The sums over a row's body are these minus its tail's (`_loo_block`).

    In XLA: its vectorised float64 ``exp`` took 1.75 ns a value on a CPU without AVX-512, where
    NumPy's, not vectorised there, took 8 ns (0.7 ns where it is), and these exponentials are most
    of a row's PSIS-LOO work. The ratios are computed once and kept (the barrier): left to fuse
    into each sum, XLA evaluated the exponential once per sum, 25 µs of CPU a row at 4,000 draws
    against 15."""
    low = loglik.min(axis=-1)
    ratios = jax.lax.optimization_barrier(jnp.exp(low[:, None] - loglik))
    return low, jnp.stack([ratios.sum(axis=-1), (ratios * ratios).sum(axis=-1), (1.0 / ratios).sum(axis=-1)])


@functools.cache
def _log_survival(tail: int, width: int) -> np.ndarray:
    """``log1p(−(j + 1/2) / tail)`` for j < tail, then zeros up to ``width``: `_smoothed_tails`'s
    plotting positions, the same for every row of a tail length."""
    positions = np.zeros(width)
    positions[:tail] = np.log1p(-(np.arange(tail) + 0.5) / tail)
    positions.flags.writeable = False
    return positions


def _fit_tails(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`_smoothed_tails` of ``values`` (rows, tail + 1), padded to a multiple of `_TAIL_WIDTH`
    columns (one program for the tail lengths of nearby relative efficiencies): k̂, the
    exponentials of the smoothed tail trimmed to (rows, tail), the sums over the tail and the rows
    whose fit overflowed (leave them to `arviz.psislw`)."""
    rows, width = values.shape
    padded = np.zeros((rows, -(-width // _TAIL_WIDTH) * _TAIL_WIDTH))
    padded[:, :width] = values
    with np.errstate(over="ignore", invalid="ignore"):  # rows left to ArviZ may hold anything
        exp_values = np.exp(padded)
    with jax.enable_x64(True):
        k, smoothed, sums, overflow = _smoothed_tails(
            padded, exp_values, _log_survival(width - 1, padded.shape[1] - 1), np.int64(width - 1)
        )
    return np.array(k), np.asarray(smoothed)[:, : width - 1], np.asarray(sums), np.asarray(overflow)


def _tail_length(draws: int, reff: float) -> int:
    """ArviZ's tail length: ``ceil(min(S / 5, 3 √(S / reff)))``."""
    return int(np.ceil(min(draws / 5.0, 3 * (draws / reff) ** 0.5)))


def pointwise_loo(
    model,
    draws: dict,
    X,
    y,
    *,
    reff: float | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    threads: int | None = None,
    var_name: str = "y",
    **model_kwargs,
) -> PointwiseLOO:
    """PSIS-LOO of each observation of ``model(X, y, **model_kwargs)`` at the posterior ``draws``.

    The rows go through the model in blocks of `chunk_rows` rows (the last block padded with copies
    of the first row, whose values are dropped), all blocks through one compiled program, and each
    block is smoothed as `arviz.psislw` does, from each row's tail and sums over the row (see the
    module's notes); ``threads`` blocks are worked on at once, and the values are put together in
    row order. Only the four values of `PointwiseLOO`
    per row are kept, so memory grows with n, not with n × draws (a few blocks of ``chunk_bytes`` at a
    time, see `CHUNK_BYTES`).

    Parameters
    ----------
    model : callable
        A per-observation model of `bayesreg.models` (those of `~bayesreg.models.FAMILY_OF_MODEL`:
        the linear, logistic, Poisson, negative binomial and Student-t regressions), observed site
        ``var_name`` in the plate ``"obs"``.
    draws : dict of str to array, each shaped (chain, draw, ...)
        The posterior draws, as `~bayesreg.engine.chains.sample_chains` returns them (extra sites,
        such as a scale mixture's, are ignored by the model).
    X : array, shape (n_samples, n_features)
    y : array, shape (n_samples,)
    reff : float, optional
        Relative efficiency of the draws; default as `arviz.loo` computes it from the posterior:
        the mean over all variables of ArviZ's ``ess(method="mean")``, divided by the number of
        draws (1 for one chain).
    chunk_bytes : int
        Budget of one block's log-likelihood values, rows × draws × 8 bytes (`CHUNK_BYTES`).
    threads : int, optional
        Blocks worked on at once, each in its own thread (the compiled programs and NumPy's
        partition and sums release the GIL); default the number of CPU cores this process may use.
        The results do not depend on it.
    var_name : str
        The observed site.
    **model_kwargs
        The model's keywords (``prior=``, ``sigma=``, ``fit_intercept=`` ...). Those with one value
        per observation (`~bayesreg.models.OBSERVATION_KEYWORDS`: the count models' ``offset``,
        shape (n_samples,)) go through the blocks with their rows.

    Returns
    -------
    PointwiseLOO
        Arrays of shape (n_samples,) and the draw count and reff they come from;
        `PointwiseLOO.elpd_data` turns them into ArviZ's `arviz.ELPDData`.

    Raises
    ------
    ValueError
        If the draws are not arrays of one (chain, draw) shape, X and y (or an offset) do not
        match, or any of them has NaN or infinite values.

    Examples
    --------
    A conjugate case (σ = 1 known, Normal(0, 1) prior on one weight, no intercept) with 2 chains
    of exact posterior draws, in blocks of 7 rows for 30 rows (the last block padded): the PSIS
    estimate agrees with the exact leave-one-out predictive density to Monte Carlo error:

    >>> import numpy as np
    >>> from scipy.stats import norm
    >>> from bayesreg.loo import pointwise_loo
    >>> from bayesreg.models import OBSERVATION_KEYWORDS, linear_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 1))
    >>> y = 0.5 * X[:, 0] + rng.normal(size=30)
    >>> precision = 1.0 + X[:, 0] @ X[:, 0]
    >>> coef = X[:, 0] @ y / precision + rng.normal(size=(2, 2000, 1)) / np.sqrt(precision)
    >>> prior = prior_from_penalty("gaussian", 1.0, convention="book")
    >>> result = pointwise_loo(linear_regression, {"coef": coef}, X, y, chunk_bytes=7 * 4000 * 8,
    ...                        prior=prior, sigma=1.0, fit_intercept=False)
    >>> result.elpd_loo.shape, result.n_samples, bool(result.pareto_k.max() < 0.5)
    ((30,), 4000, True)
    >>> prec_i = precision - X[:, 0] ** 2  # the posterior without row i, then its predictive density
    >>> mean_i = (X[:, 0] @ y - X[:, 0] * y) / prec_i
    >>> exact = norm.logpdf(y, X[:, 0] * mean_i, np.sqrt(1 + X[:, 0] ** 2 / prec_i))
    >>> bool(np.abs(result.elpd_loo - exact).max() < 0.01)
    True
    """
    draws = {name: np.asarray(value) for name, value in draws.items()}
    if not draws or any(value.ndim < 2 for value in draws.values()):
        raise ValueError("draws must be a non-empty dict of arrays shaped (chain, draw, ...)")
    num_chains, num_draws = next(iter(draws.values())).shape[:2]
    if any(value.shape[:2] != (num_chains, num_draws) for value in draws.values()):
        raise ValueError("every array of draws must have the same (chain, draw) leading shape")
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (n_samples, n_features) and y (n_samples,), got {X.shape} and {y.shape}")
    for name, values in (("X", X), ("y", y), *draws.items()):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} has NaN or infinite values: PSIS-LOO needs finite data and draws")
    n, total = X.shape[0], num_chains * num_draws
    if reff is None:
        reff = _relative_efficiency(draws)
    rows = min(n, chunk_rows(total, chunk_bytes))
    dynamic, static = split_static(model_kwargs)
    per_row = _observation_kwargs(dynamic, n)
    dynamic = {k: v for k, v in dynamic.items() if k not in per_row}
    workers = max(1, min(_threads() if threads is None else int(threads), -(-n // rows)))
    gaussian = _gaussian_draws(model, draws, model_kwargs) if var_name == "y" else None
    scratch = threading.local()  # each thread's partitioned block, reused from block to block
    with jax.enable_x64(True):
        draws, dynamic, gaussian = as_arrays((draws, dynamic, gaussian))

        def block(start: int) -> list[np.ndarray]:
            index = np.arange(start, start + rows)
            index[index >= n] = 0  # padding: row 0 again, its values dropped
            with jax.enable_x64(True):  # the flag is per thread
                if gaussian is not None:
                    loglik = _gaussian_block(X[index], y[index], *gaussian)
                else:
                    with _TRACING:  # see _TRACING
                        own = {k: v[index] for k, v in per_row.items()}
                        loglik = _block_log_likelihood(
                            model, static, draws, X[index], y[index], dynamic, own, var_name=var_name
                        )
                if getattr(scratch, "block", None) is None:
                    scratch.block = np.empty(loglik.shape, loglik.dtype)
                return [value[: n - start] for value in _loo_block(loglik, reff, out=scratch.block)]

        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            parts = _bounded_map(pool, block, range(0, n, rows), 2 * workers)
    elpd_loo, p_loo, pareto_k, ess = (np.concatenate(values) for values in zip(*parts, strict=True))
    return PointwiseLOO(elpd_loo, p_loo, pareto_k, ess, n_samples=int(total), reff=float(reff))


class PendingLOO:
    """`pointwise_loo` under way: `result` waits for it and returns its `PointwiseLOO`.

    Made by `start_pointwise_loo`. Where the work runs in a thread (``running``), an error it
    raised is raised by `result`; otherwise `result` does the work itself, in the caller's thread.

    Examples
    --------
    >>> from bayesreg.loo import PendingLOO
    >>> pending = PendingLOO(lambda: "the PointwiseLOO")
    >>> pending.running, pending.result()
    (False, 'the PointwiseLOO')
    """

    def __init__(self, compute, *, background: bool = False):
        self._compute = compute
        self._future: concurrent.futures.Future | None = None
        if background:
            self._future = concurrent.futures.Future()
            threading.Thread(target=self._run, name="bayesreg-loo", daemon=True).start()

    def _run(self) -> None:
        try:
            self._future.set_result(self._compute())
        except BaseException as error:  # raised again by result(), in the caller's thread
            self._future.set_exception(error)

    @property
    def running(self) -> bool:
        """Whether the work was started in a thread of its own."""
        return self._future is not None

    def result(self) -> PointwiseLOO:
        """The `PointwiseLOO`, once computed (waits for the thread, or computes it now)."""
        return self._compute() if self._future is None else self._future.result()


def start_pointwise_loo(model, draws: dict, X, y, **kwargs) -> PendingLOO:
    """`pointwise_loo` started in a background thread, so that the caller's own work overlaps it.

    ``draws`` may be JAX arrays still being computed (chains dispatched and not yet finished): the
    thread waits for them, then computes the blocks in `pointwise_loo`'s threads. The caller joins
    with `PendingLOO.result`. Only where the blocks come from a written-out compiled program (the
    Gaussian `~bayesreg.models.linear_regression` with its ``coef`` drawn) does the work start at
    once: other models' blocks trace the model with numpyro's effect handlers, one stack for the
    whole process, which must not happen while the caller traces a model of its own (a MAP, say), so
    for them `PendingLOO.result` does the work.

    Parameters
    ----------
    model, draws, X, y, **kwargs
        As for `pointwise_loo` (``reff``, ``chunk_bytes``, ``threads``, ``var_name`` and the
        model's keywords).

    Returns
    -------
    PendingLOO
        Its ``result()`` is ``pointwise_loo(model, draws, X, y, **kwargs)``, the same values.

    Examples
    --------
    The draws of `pointwise_loo`'s example, computed in the background:

    >>> import numpy as np
    >>> from bayesreg.loo import pointwise_loo, start_pointwise_loo
    >>> from bayesreg.models import OBSERVATION_KEYWORDS, linear_regression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 1))
    >>> y = 0.5 * X[:, 0] + rng.normal(size=30)
    >>> draws = {"coef": 0.5 + 0.2 * rng.normal(size=(2, 500, 1))}
    >>> pending = start_pointwise_loo(linear_regression, draws, X, y, sigma=1.0, fit_intercept=False)
    >>> pending.running
    True
    >>> same = pointwise_loo(linear_regression, draws, X, y, sigma=1.0, fit_intercept=False)
    >>> bool(np.array_equal(pending.result().elpd_loo, same.elpd_loo))
    True
    """
    var_name = kwargs.get("var_name", "y")
    model_kwargs = {
        k: v for k, v in kwargs.items() if k not in ("reff", "chunk_bytes", "threads", "var_name")
    }
    written_out = var_name == "y" and _writes_out(model, draws, model_kwargs)
    return PendingLOO(functools.partial(pointwise_loo, model, draws, X, y, **kwargs), background=written_out)


def _threads() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _bounded_map(pool: concurrent.futures.Executor, fun, items, ahead: int) -> list:
    """``[fun(item) for item in items]`` in ``pool``, in order, with at most ``ahead`` calls
    submitted and not yet collected (each block's arrays are freed before many more start)."""
    pending: list = []
    results = []
    for item in items:
        if len(pending) >= ahead:
            results.append(pending.pop(0).result())
        pending.append(pool.submit(fun, item))
    results.extend(future.result() for future in pending)
    return results


def _loo_block(loglik, reff: float, out: np.ndarray | None = None) -> tuple:
    """PSIS-LOO of each row of ``loglik`` (rows, draws) as `arviz.loo` computes it: the four
    `PointwiseLOO` arrays, each (rows,), from the tail of each row and a few sums over it.

    `_row_sums` sums the raw ratios ``r = exp(x)``, ``x = lo − ll`` (``lo`` the smallest
    log-likelihood), over each whole row; it is dispatched first, so that XLA computes it while
    ``np.partition`` puts the ``M + 1`` smallest log-likelihoods of each row first (ArviZ's tail of
    the largest log ratios and its cutoff). `_smoothed_tails` fits and smooths the tails and sums
    them, smoothed and raw; the body's sums are the row's minus the raw tail's. ``loglik`` may be
    the JAX array of the block's log-likelihood program: `_row_sums` then reads it in place.
    With the smoothed tail ``s`` and the normalised log weights ``lw = x̃ − log Σ exp(x̃)``,

    ``elpd_i = log Σ_s exp(lw_s + ll_s) = lo + log(S − M + Σ_tail exp(s − x)) − log Σ exp(x̃)``,
    ``ess_i = reff / Σ_s exp(2 lw_s) = reff (Σ exp(x̃))² / Σ exp(2x̃)``,
    ``lppd_i = lo + log Σ_s exp(−x_s) − log S``.

    The difference of the row's and the tail's sums is off by a few ulps of the row's sum: where the
    body holds less than `_BODY_SHARE` of ``Σ r`` or ``Σ r²`` (a tail that carries nearly all the
    weight), the body is summed directly over the partitioned draws instead. Rows with ties among
    the tail and cutoff, or a cutoff below log(smallest float), and every row when the tail has 4
    values or fewer, go through `psis` (ArviZ's own function for them), and rows whose
    log-likelihoods span more than float64's exponent range get ``lppd`` by `_logsumexp`.
    """
    draws = loglik.shape[1]
    tail = _tail_length(draws, reff)
    if tail <= 4:
        return _smooth(np.asarray(loglik), reff)
    with jax.enable_x64(True):
        row_sums = _row_sums(loglik)  # computed while the tail is partitioned below
    loglik = np.asarray(loglik)
    if out is None:
        part = np.partition(loglik, tail, axis=-1)  # the tail + 1 smallest log-likelihoods first
    else:  # the same, in a scratch array reused from block to block
        part = out
        np.copyto(part, loglik)
        part.partition(tail, axis=-1)
    lowest = np.sort(part[:, : tail + 1], axis=-1)
    low = lowest[:, :1]
    values = low - lowest[:, ::-1]  # ArviZ's shifted log ratios of the tail and cutoff, ascending
    regular = np.all(np.diff(lowest, axis=-1) > 0, axis=-1) & (values[:, 0] > np.log(np.finfo(float).tiny))
    values[~regular] = values[regular][0] if regular.any() else np.linspace(-1.0, 0.0, tail + 1)
    pareto_k, _, (smooth, smooth2, ratio, raw, raw2), overflow = _fit_tails(values)
    regular &= ~overflow
    _, (row, row2, inverse) = (np.asarray(value) for value in row_sums)
    body, body2 = row - raw, row2 - raw2
    direct = ~regular | (body < _BODY_SHARE * row) | (body2 < _BODY_SHARE * row2)
    if direct.any():  # the draws at or above the cutoff, summed
        ratios = np.exp(low[direct] - part[direct, tail:])
        body[direct], body2[direct] = ratios.sum(axis=-1), np.einsum("ij,ij->i", ratios, ratios)
    total = body + smooth
    elpd_loo = low[:, 0] + np.log(draws - tail + ratio) - np.log(total)
    ess = reff * total**2 / (body2 + smooth2)
    with np.errstate(over="ignore", divide="ignore"):  # a range beyond 709: see below
        lppd = low[:, 0] + np.log(inverse) - np.log(draws)
    wide = ~np.isfinite(lppd)
    if wide.any():
        lppd[wide] = _logsumexp(loglik[wide], axis=-1) - np.log(draws)
    if not regular.all():
        irregular = ~regular
        elpd_loo[irregular], _, pareto_k[irregular], ess[irregular] = _smooth(loglik[irregular], reff)
    return elpd_loo, lppd - elpd_loo, pareto_k, ess


def _smooth(loglik: np.ndarray, reff: float) -> tuple:
    """PSIS-LOO of a block of rows (``loglik`` shaped (rows, draws)) as `arviz.loo` computes it."""
    log_weights, pareto_k = psis(-loglik, reff)  # normalised: logsumexp over draws is 0
    ess = reff / np.exp(_logsumexp(2 * log_weights, axis=-1))
    log_weights += loglik
    elpd_loo = _logsumexp(log_weights, axis=-1)
    lppd = _logsumexp(loglik, axis=-1) - np.log(loglik.shape[-1])
    return elpd_loo, lppd - elpd_loo, pareto_k, ess


def psis(log_ratios: np.ndarray, reff: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Pareto-smoothed importance sampling of each row: `arviz.psislw`, vectorised over the rows.

    The same computation as ``arviz.psislw(log_ratios, reff)`` (its tail length, the empirical
    Bayes fit of the generalised Pareto distribution, the smoothed tail, the truncation at the
    largest raw weight and the normalisation), written for a whole block of rows at once, where
    ArviZ loops over the rows in Python (the generalised Pareto fit is one compiled program for
    all rows, `_smoothed_tails`). A row whose
    tail is not the regular one (tied values among the largest, a cutoff below the smallest
    positive float), and every row when there are too few draws for a tail fit, goes through
    `arviz.psislw` itself.

    Parameters
    ----------
    log_ratios : array, shape (rows, draws)
        Log importance ratios (for LOO, minus the log-likelihood).
    reff : float
        Relative efficiency of the draws.

    Returns
    -------
    log_weights : ndarray, shape (rows, draws)
        Smoothed, truncated and normalised log weights (logsumexp 0 in each row).
    pareto_k : ndarray, shape (rows,)
        The estimated Pareto shape k̂ of each row.

    Examples
    --------
    Ratios with a heavy tail (Student t with 2 degrees of freedom: k̂ near 1/2), and ArviZ's
    answer:

    >>> import warnings
    >>> import numpy as np
    >>> import arviz as az
    >>> from bayesreg.loo import psis
    >>> rng = np.random.default_rng(0)
    >>> log_ratios = np.log(np.abs(rng.standard_t(2, size=(3, 1000))))
    >>> log_weights, k = psis(log_ratios, reff=0.9)
    >>> reference_weights, reference_k = az.psislw(log_ratios, reff=0.9)
    >>> bool(np.allclose(log_weights, reference_weights, atol=1e-12)), bool(np.allclose(k, reference_k))
    (True, True)
    >>> np.round(k, 1)
    array([0.5, 0.5, 0.6])
    """
    import arviz as az

    log_ratios = np.asarray(log_ratios, dtype=np.float64)
    draws = log_ratios.shape[-1]
    tail = _tail_length(draws, reff)
    if tail <= 4:  # ArviZ leaves such rows unsmoothed, with k̂ = inf
        return tuple(np.asarray(value) for value in az.psislw(log_ratios, reff))
    x = log_ratios - log_ratios.max(axis=-1, keepdims=True)
    # the tail + 1 largest values of each row, ascending (np.partition: argpartition took four
    # times as long on log-likelihood rows); a regular row has no ties among them
    values = np.partition(x, draws - tail - 1, axis=-1)[:, draws - tail - 1 :]
    values.sort(axis=-1)
    cutoff = values[:, :1]
    regular = np.all(np.diff(values, axis=-1) > 0, axis=-1) & (cutoff[:, 0] > np.log(np.finfo(float).tiny))
    # where the tail is in a regular row (exactly `tail` values above the cutoff), by ascending value;
    # the other rows get placeholder positions, their values come from ArviZ below
    if not regular.any():
        return tuple(np.asarray(value) for value in az.psislw(log_ratios, reff))
    in_tail = x > cutoff
    in_tail[~regular] = np.arange(draws) < tail
    where = np.nonzero(in_tail)[1].reshape(-1, tail)
    where = np.take_along_axis(where, np.argsort(np.take_along_axis(x, where, axis=-1), axis=-1), axis=-1)
    k, smoothed, _, overflow = _fit_tails(values)
    regular &= ~overflow
    with np.errstate(invalid="ignore"):  # NaN where the fitted scale was not positive, as ArviZ
        smoothed = np.where(np.isfinite(k)[:, None], np.log(smoothed), values[:, 1:])
    np.put_along_axis(x, where, smoothed, axis=-1)
    x[x > 0] = 0  # truncated at the largest raw weight
    x -= _logsumexp(x, axis=-1, keepdims=True)
    if not regular.all():
        x[~regular], k[~regular] = az.psislw(log_ratios[~regular], reff)
    return x, k


def _logsumexp(values: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """``log Σ exp(values)`` along ``axis``, shifted by the maximum (a non-finite maximum by 0), with
    one temporary array: scipy's `~scipy.special.logsumexp` took six times as long on a block."""
    shift = np.max(values, axis=axis, keepdims=True)
    shift[~np.isfinite(shift)] = 0.0
    terms = values - shift
    np.exp(terms, out=terms)
    total = np.log(np.sum(terms, axis=axis, keepdims=True)) + shift
    return total if keepdims else np.squeeze(total, axis=axis)


def _relative_efficiency(draws: dict) -> float:
    """`arviz.loo`'s default reff: mean ESS (method "mean") over every posterior value, per draw."""
    import arviz as az

    num_chains, num_draws = next(iter(draws.values())).shape[:2]
    if num_chains == 1:
        return 1.0
    ess = az.ess(az.convert_to_dataset(draws), method="mean")
    mean_ess = np.hstack([ess[name].values.ravel() for name in ess.data_vars]).mean()
    return float(mean_ess / (num_chains * num_draws))


def _elpd_data(**values) -> az.ELPDData:
    import arviz as az

    return az.ELPDData(data=list(values.values()), index=list(values))


def add_loo(idata: az.InferenceData, result: PointwiseLOO) -> az.InferenceData:
    """Store ``result`` in ``idata``'s group `LOO_GROUP`, so a saved posterior answers LOO.

    The group holds ``elpd_loo``, ``p_loo``, ``pareto_k`` and ``ess`` over the dimension ``obs``
    (its coordinates those of ``observed_data``, if any) and the attributes ``n_samples`` and
    ``reff``: n numbers each instead of the n × draws ``log_likelihood`` group. ArviZ keeps a group
    of another name than its own as it is, through ``to_netcdf`` and ``from_netcdf`` too.

    Parameters
    ----------
    idata : arviz.InferenceData
        Changed in place (an existing group `LOO_GROUP` is replaced).
    result : PointwiseLOO

    Returns
    -------
    arviz.InferenceData
        ``idata``.

    Examples
    --------
    >>> import numpy as np
    >>> import arviz as az
    >>> from bayesreg.loo import LOO_GROUP, PointwiseLOO, add_loo
    >>> idata = az.from_dict(posterior={"coef": np.zeros((2, 50))})
    >>> result = PointwiseLOO(np.array([-1.0, -3.0]), np.array([0.1, 0.5]), np.array([0.2, 0.4]),
    ...                       np.array([90.0, 70.0]), n_samples=100, reff=0.9)
    >>> group = add_loo(idata, result)[LOO_GROUP]
    >>> sorted(group.data_vars), group["pareto_k"].dims, group.attrs["n_samples"]
    (['elpd_loo', 'ess', 'p_loo', 'pareto_k'], ('obs',), 100)
    """
    import xarray as xr

    n = len(result.elpd_loo)
    observed = getattr(idata, "observed_data", None)
    has_obs = observed is not None and "obs" in observed.coords and observed.sizes["obs"] == n
    obs = observed["obs"].values if has_obs else np.arange(n)
    values = {name: ("obs", np.asarray(getattr(result, name))) for name in _SAVED}
    group = xr.Dataset(
        values,
        coords={"obs": obs},
        attrs={"n_samples": int(result.n_samples), "reff": float(result.reff)},
    )
    if LOO_GROUP in idata.groups():
        del idata[LOO_GROUP]
    idata.add_groups({LOO_GROUP: group})
    return idata


def loo(idata: az.InferenceData, *, scale: str = "log", var_name: str | None = None) -> az.ELPDData:
    """PSIS-LOO of a posterior, as `arviz.ELPDData`: from its log-likelihood, or its saved values.

    With a ``log_likelihood`` group this is ``arviz.loo(idata, pointwise=True, scale=scale,
    var_name=var_name)``; without one, the same numbers from the group `LOO_GROUP` that
    `add_loo` wrote (`PointwiseLOO.elpd_data`). Either way the result is pointwise, so
    ``arviz.compare({"a": loo(idata_a), "b": loo(idata_b)})`` compares fits whether or not their
    n × draws log-likelihood was kept (`arviz.compare` takes `arviz.ELPDData` values as they are;
    it cannot read the group `LOO_GROUP` of an InferenceData itself).

    Parameters
    ----------
    idata : arviz.InferenceData
        A posterior with a ``log_likelihood`` group or a `LOO_GROUP` group (after
        ``arviz.from_netcdf`` too).
    scale : {"log", "negative_log", "deviance"}
        ArviZ's output scale.
    var_name : str, optional
        The log-likelihood variable, for `arviz.loo` (the saved values are of the observed site).

    Returns
    -------
    arviz.ELPDData

    Raises
    ------
    ValueError
        If ``idata`` has neither group.

    Examples
    --------
    Saved pointwise values, through a netCDF file:

    >>> import os, tempfile
    >>> import numpy as np
    >>> import arviz as az
    >>> from bayesreg.loo import PointwiseLOO, add_loo, loo
    >>> idata = az.from_dict(posterior={"coef": np.zeros((2, 50))})
    >>> result = PointwiseLOO(np.array([-1.0, -3.0]), np.array([0.1, 0.5]), np.array([0.2, 0.4]),
    ...                       np.array([90.0, 70.0]), n_samples=100, reff=0.9)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "posterior.nc")
    ...     _ = add_loo(idata, result).to_netcdf(path)
    ...     elpd = loo(az.from_netcdf(path))
    >>> float(elpd["elpd_loo"]), float(elpd["p_loo"]), elpd["loo_i"].dims
    (-4.0, 0.6, ('obs',))
    """
    import arviz as az

    groups = idata.groups()
    if "log_likelihood" in groups:
        return az.loo(idata, pointwise=True, scale=scale, var_name=var_name)
    if LOO_GROUP not in groups:
        raise ValueError(
            f"this InferenceData has neither a 'log_likelihood' group nor a '{LOO_GROUP}' group "
            f"(groups: {', '.join(groups)}): sample with the log-likelihood kept, or add the pointwise "
            "LOO values with bayesreg.loo.add_loo"
        )
    group = idata[LOO_GROUP]
    result = PointwiseLOO(
        *(group[name].values for name in _SAVED),
        n_samples=int(group.attrs["n_samples"]),
        reff=float(group.attrs["reff"]),
    )
    return result.elpd_data(scale=scale, obs=group["obs"].values)
