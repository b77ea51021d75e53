"""Simulation-based calibration (Talts et al. 2018) of NUTS on the models of `bayesreg.models`.

If ``θ ~ p(θ)`` and ``y ~ p(y | θ)``, and ``θ₁ … θ_L`` are independent draws from the posterior
``p(θ | y)``, the rank of ``θ`` among the ``θ_l`` is uniform on ``{0, …, L}`` for every scalar
parameter. A sampler (or a model) that is wrong shows as non-uniform ranks: a ∪ shape for a posterior
that is too narrow, a ∩ shape for one that is too wide, a slope for a biased one.

`sbc_ranks` draws the replicates ``(θ, y)`` from the model's prior predictive and runs NUTS on a
batch of them at once, on the engine's chains driver (`bayesreg.engine.chains.sample_chains`): one
chain per replicate, the simulated targets per chain and the design shared, in programs compiled
once per model, settings and shapes.
`rank_uniformity_pvalues` tests the ranks with a chi-square test on binned ranks.

Every prior must be proper here, the intercept's included (e.g. ``intercept_prior=Normal(0, 1)``):
the replicates are drawn from it. Computations use JAX's default float type (float32 unless x64 is
on), which is ample for ranks.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpyro import handlers
from numpyro.infer import Predictive
from scipy import stats

from bayesreg.engine.arrays import split_static
from bayesreg.engine.chains import sample_chains
from bayesreg.engine.programs import program
from bayesreg.params import check_params
from bayesreg.sampling import default_target_accept

__all__ = [
    # running SBC
    "SBCResult",
    "sbc_ranks",
    # judging the ranks
    "rank_uniformity_pvalue",
    "rank_uniformity_pvalues",
]


class SBCResult(NamedTuple):
    """Ranks of the simulated parameters among their posterior draws, as `sbc_ranks` returns them.

    Attributes
    ----------
    ranks : numpy.ndarray of int, shape (num_replicates, num_parameters)
        Number of the ``num_draws`` posterior draws below the value the data were simulated with, for
        every replicate and scalar parameter; uniform on ``0 … num_draws`` when all is well.
    names : tuple of str
        The scalar parameters, in the columns' order: ``"coef[0]"``, ``"coef[1]"``, …, ``"intercept"``.
    num_draws : int
        Posterior draws L per replicate (after thinning): ranks lie in ``0 … L``.
    divergences : numpy.ndarray of int, shape (num_replicates,)
        Divergent transitions among the kept draws of each replicate's run.

    Examples
    --------
    `sbc_ranks` returns one; by hand, two replicates of two parameters with 9 draws each:

    >>> import numpy as np
    >>> from bayesreg.calibration import SBCResult
    >>> result = SBCResult(np.array([[0, 9], [4, 5]]), ("coef[0]", "intercept"), 9, np.zeros(2, int))
    >>> dict(zip(result.names, result.ranks.T.tolist()))
    {'coef[0]': [0, 4], 'intercept': [9, 5]}
    """

    ranks: np.ndarray
    names: tuple
    num_draws: int
    divergences: np.ndarray


def _latent_sites(model, args, kwargs) -> dict:
    tr = handlers.trace(handlers.seed(model, 0)).get_trace(*args, **kwargs)
    return {
        name: site
        for name, site in tr.items()
        if site["type"] == "sample" and not site["is_observed"] and not site["fn"].support.is_discrete
    }


@program("sbc-simulate", static_argnames=("model", "static", "num_replicates"))
def _simulate(model, static, key, X, kwargs, *, num_replicates):
    """``num_replicates`` draws of every site of ``model(X, None, **kwargs)`` (compiled once per shape)."""
    predictive = Predictive(functools.partial(model, **dict(static)), num_samples=num_replicates)
    return predictive(key, X, None, **kwargs)


def _scalar_columns(values: dict, names: tuple, batch_ndim: int) -> np.ndarray:
    """Stack the sites' scalar components as the last axis (site order ``names``, C order within)."""
    columns = [np.asarray(values[n]).reshape((*np.shape(values[n])[:batch_ndim], -1)) for n in names]
    return np.concatenate(columns, axis=-1)


def _component_names(name: str, shape: tuple) -> list[str]:
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape)]


def sbc_ranks(
    model,
    X,
    *,
    num_replicates: int = 100,
    num_warmup: int = 200,
    num_draws: int = 99,
    thin: int = 4,
    seed: int = 0,
    model_kwargs: dict | None = None,
    simulate_kwargs: dict | None = None,
    batch_size: int | None = None,
    target_accept: float | None = None,
) -> SBCResult:
    """Simulation-based calibration ranks of NUTS on ``model(X, y, **model_kwargs)``.

    For each replicate: draw the parameters θ and the target ``y`` from the prior predictive
    ``model(X, None, **simulate_kwargs)``; run NUTS (one chain, ``num_warmup`` adaptation steps, then
    ``num_draws × thin`` steps kept every ``thin``-th) on ``model(X, y, **model_kwargs)``; record the
    rank of every scalar component of θ among its ``num_draws`` posterior draws.

    Parameters
    ----------
    model : callable
        A model ``model(X, y=None, **kwargs)`` of `bayesreg.models`, all of whose priors are proper.
    X : array, shape (n_samples, n_features)
        Design matrix, the same for every replicate.
    num_replicates : int
        Number of simulated data sets R.
    num_warmup : int
        NUTS adaptation steps per replicate.
    num_draws : int
        Posterior draws L kept per replicate; ranks lie in ``0 … L`` (choose ``L + 1`` divisible by the
        number of bins used later).
    thin : int
        Keep one NUTS step in ``thin``, so that the L draws are nearly independent (dependent draws make
        the ranks non-uniform even for a correct sampler).
    seed : int
        Seed of the simulation and of the samplers; the same seed gives the same ranks.
    model_kwargs : dict, optional
        Keyword arguments of the fitted model (``prior=``, ``sigma=``, ``intercept_prior=`` …).
    simulate_kwargs : dict, optional
        Keyword arguments of the model the data are simulated from (default: ``model_kwargs``).
        Setting them differently (e.g. another ``sigma``) simulates from a model other than the
        fitted one, which SBC should detect.
    batch_size : int, optional
        Replicates per vectorised call (default: all at once). Calls share one compiled function;
        the last batch is padded.
    target_accept : float in (0, 1), optional
        NUTS's acceptance target (default: the fitted prior's,
        `~bayesreg.sampling.default_target_accept`: 0.99 for the sparsity priors of
        `bayesreg.shrinkage`, else `~bayesreg.defaults.TARGET_ACCEPT`).

    Returns
    -------
    SBCResult

    Examples
    --------
    Four replicates of a linear model with proper priors (Normal(0, 1) on the weights and the
    intercept, σ = 1 known), each a short chain of 20 warmup steps and 9 kept draws: ranks lie in
    ``0 … 9`` (real runs use hundreds of replicates, see `rank_uniformity_pvalues`):

    >>> import numpy as np, numpyro.distributions as dist
    >>> from bayesreg.calibration import sbc_ranks
    >>> from bayesreg.models import linear_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> X = np.random.default_rng(0).normal(size=(10, 2))
    >>> model = {"prior": prior_from_penalty("gaussian", 1.0, convention="book"), "sigma": 1.0,
    ...          "intercept_prior": dist.Normal(0.0, 1.0)}
    >>> result = sbc_ranks(linear_regression, X, num_replicates=4, num_warmup=20, num_draws=9, thin=1,
    ...                    model_kwargs=model)
    >>> result.names, result.ranks.shape, bool(((0 <= result.ranks) & (result.ranks <= 9)).all())
    (('coef[0]', 'coef[1]', 'intercept'), (4, 3), True)
    """
    settings = {
        "num_replicates": num_replicates,
        "num_warmup": num_warmup,
        "num_draws": num_draws,
        "thin": thin,
        "seed": seed,
        "batch_size": batch_size,
        "target_accept": default_target_accept((model_kwargs or {}).get("prior"))
        if target_accept is None
        else target_accept,
    }
    checked = check_params(settings)
    num_replicates, num_warmup, num_draws, thin, seed, batch_size, target_accept = checked.values()
    batch_size = num_replicates if batch_size is None else batch_size
    model_kwargs = dict(model_kwargs or {})
    simulate_kwargs = model_kwargs if simulate_kwargs is None else {**model_kwargs, **simulate_kwargs}

    X = jnp.asarray(X, dtype=float)
    key_sim, key_fit = jax.random.split(jax.random.PRNGKey(seed))
    sim_dynamic, sim_static = split_static(simulate_kwargs)
    truth = _simulate(model, sim_static, key_sim, X, sim_dynamic, num_replicates=num_replicates)
    latent = _latent_sites(functools.partial(model, **model_kwargs), (X, truth["y"][0]), {})
    names = tuple(latent)
    missing = [n for n in names if n not in truth]
    if missing:
        raise ValueError(f"the simulating model has no sites {missing} to rank")
    ys = jnp.asarray(truth["y"], dtype=float)

    num_batches = math.ceil(num_replicates / batch_size)
    padded = num_batches * batch_size
    keys = jax.random.split(key_fit, padded)
    ys = jnp.concatenate([ys, jnp.broadcast_to(ys[:1], (padded - num_replicates, *ys.shape[1:]))])
    draws, divergences = [], []
    for b in range(num_batches):
        part = slice(b * batch_size, (b + 1) * batch_size)
        chains = sample_chains(
            model,
            keys[part],
            (X,),
            model_kwargs,
            {"y": ys[part]},
            num_chains=batch_size,
            num_warmup=num_warmup,
            num_samples=num_draws,
            thin=thin,
            target_accept=target_accept,
        )
        draws.append(_scalar_columns(chains.draws, names, 2))
        divergences.append(np.asarray(chains.stats["diverging"]).sum(axis=1))
    draws = np.concatenate(draws)[:num_replicates]  # (R, L, P)
    true = _scalar_columns(truth, names, 1)  # (R, P)
    ranks = (draws < true[:, None, :]).sum(axis=1)
    labels = [c for n in names for c in _component_names(n, tuple(latent[n]["value"].shape))]
    return SBCResult(
        ranks=ranks.astype(int),
        names=tuple(labels),
        num_draws=num_draws,
        divergences=np.concatenate(divergences)[:num_replicates].astype(int),
    )


def rank_uniformity_pvalues(ranks, num_draws: int, num_bins: int = 10) -> np.ndarray:
    """Chi-square test of uniformity of SBC ranks, one p-value per parameter.

    The ranks ``0 … L`` are grouped into ``num_bins`` bins of ``(L + 1)/num_bins`` consecutive values,
    whose counts are uniform under calibration; the p-value is Pearson's chi-square test with
    ``num_bins − 1`` degrees of freedom. Keep the expected count per bin ``R/num_bins`` at 5 or more.

    Parameters
    ----------
    ranks : array of int, shape (num_replicates,) or (num_replicates, num_parameters)
        Ranks, as in `SBCResult.ranks`.
    num_draws : int
        L, the largest possible rank.
    num_bins : int
        Number of bins; must divide ``L + 1``.

    Returns
    -------
    numpy.ndarray, shape (num_parameters,)

    Examples
    --------
    Ranks spread evenly over ``0 … 99`` give p = 1; ranks all in the middle (a posterior too wide)
    give p ≈ 0:

    >>> import numpy as np
    >>> from bayesreg.calibration import rank_uniformity_pvalues
    >>> even, middle = np.tile(np.arange(100), 2), np.full(200, 50)
    >>> rank_uniformity_pvalues(np.column_stack([even, middle]), num_draws=99).round(12)
    array([1., 0.])
    """
    ranks = np.asarray(ranks)
    if ranks.ndim == 1:
        ranks = ranks[:, None]
    if num_bins < 2 or (num_draws + 1) % num_bins:
        raise ValueError(
            f"num_bins ({num_bins}) must be at least 2 and divide num_draws + 1 ({num_draws + 1})"
        )
    if ranks.min() < 0 or ranks.max() > num_draws:
        raise ValueError(f"ranks must lie in 0 … {num_draws}")
    width = (num_draws + 1) // num_bins
    bins = ranks // width  # (R, P)
    counts = np.stack([np.bincount(bins[:, j], minlength=num_bins) for j in range(bins.shape[1])], axis=1)
    return np.atleast_1d(stats.chisquare(counts, axis=0).pvalue)


def rank_uniformity_pvalue(ranks, num_draws: int, num_bins: int = 10) -> float:
    """One p-value for all parameters: the Bonferroni-corrected smallest `rank_uniformity_pvalues`.

    Rejecting calibration when it is below a level α has probability at most α under calibration,
    whatever the dependence between parameters.

    Parameters
    ----------
    ranks, num_draws, num_bins
        As in `rank_uniformity_pvalues`.

    Returns
    -------
    float
        ``min(1, P · min_j p_j)`` over the P parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.calibration import rank_uniformity_pvalue, rank_uniformity_pvalues
    >>> ranks = np.random.default_rng(0).integers(0, 100, size=(200, 3))
    >>> p = rank_uniformity_pvalues(ranks, num_draws=99)
    >>> bool(rank_uniformity_pvalue(ranks, num_draws=99) == min(1.0, 3 * p.min()))
    True
    """
    p = rank_uniformity_pvalues(ranks, num_draws, num_bins)
    return float(min(1.0, p.size * p.min()))
