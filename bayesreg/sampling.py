"""The posterior by NUTS (numpyro), as an ArviZ InferenceData, and a posterior fit next to the MAP.

`sample_posterior` runs NUTS on a model of `bayesreg.models` and returns one InferenceData with the
groups ``posterior``, ``sample_stats``, ``loo`` (PSIS-LOO per observation, computed in blocks of
rows: `bayesreg.loo`), ``observed_data`` and, on request, ``log_likelihood`` (n × draws) and
``posterior_predictive``. `fit_posterior` does what a NUTS fit of
the estimators and the command line needs: the posterior and the MAP of the same model, a Laplace
prior sampled again as a scale mixture where it diverged, and the diagnostics, in a `PosteriorFit`.

The chains run on the engine's chains driver (`bayesreg.engine.chains.sample_chains`: compiled once
per model, settings and data shape, one after another on a CPU, vectorised elsewhere, split across
devices where there are several); the log-likelihood of their draws is one more compiled program.
The direct and mixture forms of the linear and logistic models sample rescaled weights
(`Preconditioning`, an exact change of variables whose draws are mapped back), so that neither the
columns' units nor the number of rows matter to the sampler.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import inspect
import sys
import threading
import warnings
from typing import TYPE_CHECKING, Literal, NamedTuple

import jax
import numpy as np
import numpyro.distributions as dist
from jax.flatten_util import ravel_pytree
from numpyro import handlers
from numpyro.infer import Predictive, init_to_median, log_likelihood
from numpyro.infer.util import constrain_fn, potential_energy, unconstrain_fn

from bayesreg.defaults import (
    MASS_MATRIX,
    MAX_TREE_DEPTH,
    NUTS,
    PENALTY_NUM_WARMUP,
    SCALE_RATIO,
    TARGET_ACCEPT,
)
from bayesreg.diagnostics import DiagnosticsReport, check_diagnostics, column_scale_ratio
from bayesreg.engine.arrays import as_arrays, split_static
from bayesreg.engine.chains import Chains, fall_back_to_mixture, sample_chains, seed_keys
from bayesreg.engine.map import MAPResult, linear_map, map_estimate
from bayesreg.engine.programs import program
from bayesreg.loo import add_loo, start_pointwise_loo
from bayesreg.models import FAMILY_OF_MODEL, SufficientStats, linear_regression_stats
from bayesreg.models.collapsed import collapsed_form
from bayesreg.models.shrinkage import SHRINKAGE_TYPES, WeightConditioning
from bayesreg.params import check_param, check_params
from bayesreg.priors import Prior

if TYPE_CHECKING:  # arviz is imported where it is used: `import bayesreg` does not load it
    import arviz as az

__all__ = [
    "FEATURE_SITES",
    "LIKELIHOOD_SITES",
    "PosteriorFit",
    "Preconditioning",
    "ShrinkageStart",
    "arviz_sample_stats",
    "default_num_warmup",
    "default_target_accept",
    "fit_posterior",
    "sample_posterior",
    "shrinkage_start",
    "RIDGE_START_PRECISION",
]

LIKELIHOOD_SITES = ("sigma", "df", "dispersion")
"""The likelihood's own parameters (the noise sd, the Student-t's ν, the negative binomial's α): a
site where the model's keyword is a distribution, else a fixed number that `sample_posterior` keeps
in ``posterior.attrs`` under the same name, where `bayesreg.predictive` reads it."""

FEATURE_SITES = ("coef", "coef_var", "coef_std", "coef_z", "coef_c", "lambda", "psi", "local", "phi")
"""The posterior variables with one value per feature (dimension ``feature`` in the InferenceData):
the weights, a Laplace prior's mixture variances and sds, and a sparsity prior's non-centred and
partially centred weights, local scales (horseshoes) and R2D2's per-weight sites."""


def default_target_accept(prior) -> float:
    """The NUTS acceptance target a prior needs: its ``target_accept`` attribute where it has one
    (the sparsity priors of `bayesreg.shrinkage`: 0.99), else `~bayesreg.defaults.TARGET_ACCEPT`.

    Examples
    --------
    >>> from bayesreg.sampling import default_target_accept
    >>> from bayesreg.priors import prior_from_penalty
    >>> from bayesreg.shrinkage import Horseshoe
    >>> lasso = prior_from_penalty("laplace", 1.0, convention="book")
    >>> default_target_accept(Horseshoe()), default_target_accept(lasso)
    (0.99, 0.8)
    """
    return float(getattr(prior, "target_accept", TARGET_ACCEPT))


def default_num_warmup(prior) -> int:
    """The NUTS warmup steps per chain a prior needs: `~bayesreg.defaults.PENALTY_NUM_WARMUP` (500)
    for a prior with a fixed scale (None, flat, or a `~bayesreg.priors.Prior`: Gaussian, Laplace,
    elastic net at a fixed α), else ``bayesreg.defaults.NUTS.num_warmup`` (1000: the sparsity priors
    of `bayesreg.shrinkage`, the hierarchical priors of `bayesreg.hierarchical`, anything else).

    The fixed-scale priors' chains start at the exact MAP with the curvature there, and 500 steps
    reached the bulk ESS of 1000 with no divergence on the diabetes, star98 and breast-cancer data
    (`~bayesreg.defaults.PENALTY_NUM_WARMUP`); with 500 the horseshoe's chains on diabetes gave a
    posterior sd more than 4 MCSE from an exact Gibbs sampler's and the hierarchical Laplace
    logistic chains diverged, so the priors that learn their scales keep 1000.

    Examples
    --------
    >>> from bayesreg.sampling import default_num_warmup
    >>> from bayesreg.priors import prior_from_penalty
    >>> from bayesreg.shrinkage import Horseshoe
    >>> from bayesreg.hierarchical import HierarchicalLaplace
    >>> lasso = prior_from_penalty("laplace", 1.0, convention="book")
    >>> default_num_warmup(lasso), default_num_warmup(None)
    (500, 500)
    >>> default_num_warmup(Horseshoe()), default_num_warmup(HierarchicalLaplace())
    (1000, 1000)
    """
    return PENALTY_NUM_WARMUP if prior is None or isinstance(prior, Prior) else NUTS.num_warmup


class PosteriorFit(NamedTuple):
    """A model's NUTS posterior next to its MAP, as `fit_posterior` returns it.

    Attributes
    ----------
    idata : arviz.InferenceData
        The posterior, as `sample_posterior` returns it (with ``coef_std`` and ``coef_var`` when
        the Laplace prior was sampled as a scale mixture).
    map : MAPResult or None
        The MAP of the same model (the penalised estimate, exact zeros included); None for the
        sparsity priors of `bayesreg.shrinkage`, whose densities are unbounded at 0 so that no MAP
        exists.
    diagnostics : DiagnosticsReport
        R-hat, ESS, divergences, E-BFMI and tree depth of the chains
        (`~bayesreg.diagnostics.check_diagnostics`, whose warnings have been raised).
    parametrisation : {"collapsed", "direct", "mixture", "gibbs"}
        What the chains sampled: σ and the prior variances with the coefficients integrated out
        (`~bayesreg.models.linear_regression_collapsed`), the model's density, or (Laplace prior)
        the normal–exponential scale mixture `~bayesreg.engine.LaplaceScaleMixture`; "gibbs": the
        Gibbs sampler of `bayesreg.gibbs` drew them (`~bayesreg.gibbs.gibbs_fit`).
    mass_matrix : {"dense", "diagonal", "gibbs"}
        The mass matrix the chains adapted ("gibbs": none, no NUTS ran).

    Examples
    --------
    `fit_posterior` returns one; its fields:

    >>> from bayesreg.sampling import PosteriorFit
    >>> PosteriorFit._fields
    ('idata', 'map', 'diagnostics', 'parametrisation', 'mass_matrix')
    """

    idata: az.InferenceData
    map: MAPResult | None
    diagnostics: DiagnosticsReport
    parametrisation: Literal["collapsed", "direct", "mixture", "gibbs"]
    mass_matrix: Literal["dense", "diagonal", "gibbs"]


class Preconditioning(NamedTuple):
    """The exact linear change of variables under which the direct chains sample the weights.

    NUTS samples ``z = scale ⊙ coef`` and ``intercept_z = intercept + mean · coef`` of the model
    on the columns ``(X − mean) / scale``, under the prior on ``coef`` carried over exactly: a
    Laplace rate ``l1 / scale_j``, a Gaussian precision ``l2 / scale_j²`` (both for the elastic
    net), per feature. The posterior of ``(coef, intercept)`` is unchanged (the map is linear, so
    its Jacobian is a constant); only the geometry the sampler sees changes: ``z`` has a posterior
    sd of order 1 whatever the columns' units, the number of rows and the target's units.
    NUTS needs that because numpyro regularises each adapted variance towards ``1e-3`` (it adds
    ``1e-3·5/(w + 5)`` after a window of ``w`` draws, about 1e-5), which swamps posterior
    variances far below that: columns in units of 1e5 give 1e-10 (the logistic chains on columns
    in units 1e-3 … 1e5 did not converge), and so do many rows, since a weight of a unit-sd column
    has posterior sd about ``σ/√n`` (1.5e-7 as a variance at n = 10⁷, where the adapted inverse
    mass matrix came out 1e-5·I and every draw of the Gaussian lasso on 50 columns hit the maximum
    tree depth: benchmarks/README.md). The draws are mapped back (`to_original`), so ``coef`` and
    ``intercept`` are those of the original columns, and the log-likelihood is that of the
    original model.

    The columns are centred only where the intercept's prior is flat (then ``intercept_z`` is flat
    too). ``scale`` is ``s_j·√n / t``: ``s_j`` is the column's sd with an intercept and its root
    mean square without one (for `~bayesreg.models.SufficientStats`, ``√(diag(XᵀX)/n)`` of the
    statistics as they are), 1 for a column that is 0; ``t`` is the target's sd (root mean square
    without an intercept; ``√(yᵀy/n)`` of the statistics) for a Gaussian or Student-t likelihood,
    whose noise scale σ is at most about that, and 1 for the other families, whose curvature per
    row is at most of order 1. So ``z``'s posterior sd is about ``σ/t`` (Gaussian) or ``1/√(curvature
    per row)``, not ``1/√n``. Under a sparsity or hierarchical prior
    (`~bayesreg.models.shrinkage.SHRINKAGE_TYPES`) ``scale`` is 1: the columns are only centred,
    which leaves that prior on ``coef`` as it is (its non-centred form already samples the weights'
    scales on the log scale, where a column's units are a shift) and removes the intercept's
    correlation with the weights of columns far from 0.

    Attributes
    ----------
    mean : ndarray of shape (n_features,)
        Subtracted from the columns (zeros without a flat intercept).
    scale : ndarray of shape (n_features,)
        The columns are divided by it; positive.

    Examples
    --------
    A logistic regression on 50 rows of columns in units 1e-3 and 1e4: the chains see centred
    columns of sd ``1/√50`` whatever their units, and the weights come back on the original columns
    (the linear predictor is the same):

    >>> import numpy as np
    >>> from bayesreg.models import logistic_regression
    >>> from bayesreg.priors import Prior
    >>> from bayesreg.sampling import Preconditioning
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 2)) * [1e-3, 1e4] + [0.0, 5e4]
    >>> y = (rng.random(50) < 0.5).astype(float)
    >>> kwargs = {"prior": Prior("laplace", l1=2.0)}
    >>> pre = Preconditioning.of(logistic_regression, (X, y), kwargs)
    >>> (Xz, _), kwargs_z = pre.data((X, y)), pre.model_kwargs(kwargs)
    >>> bool(np.allclose(Xz.std(axis=0), 1 / np.sqrt(50)) and np.allclose(Xz.mean(axis=0), 0.0))
    True
    >>> bool(np.allclose(kwargs_z["prior"].l1, 2.0 / pre.scale))  # the Laplace rate of z = scale·coef
    True
    >>> params = {"coef": np.array([300.0, -2e-4]), "intercept": np.array(1.5)}
    >>> sampled = pre.to_sampled(params)
    >>> bool(np.allclose(Xz @ sampled["coef"] + sampled["intercept"], X @ params["coef"] + 1.5))
    True
    >>> back = pre.to_original(sampled)
    >>> bool(np.allclose(back["coef"], params["coef"]) and np.isclose(back["intercept"], 1.5))
    True
    """

    mean: np.ndarray
    scale: np.ndarray

    PRIOR_KINDS = ("gaussian", "laplace", "elasticnet")  # the priors whose transform is known here

    @classmethod
    def of(cls, model, args: tuple, kwargs: dict) -> Preconditioning | None:
        """The preconditioning of ``model(*args, **kwargs)``, or None where it does not apply.

        It applies to the models of `~bayesreg.models.FAMILY_OF_MODEL` (data ``(X, y)``: the
        linear, logistic, Poisson, negative binomial and Student-t regressions, whose likelihood
        reads ``X`` only through ``intercept + X coef``, an offset added to it unchanged) and
        `~bayesreg.models.linear_regression_stats` (data ``(stats,)``) under no prior, a
        `~bayesreg.priors.Prior` or (centring only) a prior of
        `~bayesreg.models.shrinkage.SHRINKAGE_TYPES`; other models and priors are sampled as they
        are.

        Parameters
        ----------
        model : callable
        args : tuple
            The model's data arguments.
        kwargs : dict
            Its keywords (``prior``, ``fit_intercept``, ``intercept_prior`` ...).

        Returns
        -------
        Preconditioning or None
        """
        prior = kwargs.get("prior")
        shrinkage = isinstance(prior, SHRINKAGE_TYPES)
        if (
            prior is not None
            and not shrinkage
            and not (isinstance(prior, Prior) and prior.kind in cls.PRIOR_KINDS)
        ):
            return None
        fit_intercept = bool(kwargs.get("fit_intercept", True))
        centre = fit_intercept and kwargs.get("intercept_prior") is None
        target = None
        if args and isinstance(args[0], SufficientStats):
            stats = args[0]
            n = float(stats.n)
            scale = np.sqrt(np.diagonal(np.asarray(stats.xtx)) / n)
            mean = np.asarray(stats.x_mean, dtype=np.float64)
            if model is linear_regression_stats or FAMILY_OF_MODEL.get(model) in ("gaussian", "student_t"):
                target = np.sqrt(float(stats.yty) / n)  # the rows' model from their statistics (sharded)
        elif model in FAMILY_OF_MODEL and args:
            X = np.asarray(args[0], dtype=np.float64)
            n = float(X.shape[0])
            mean = X.mean(axis=0)
            scale = X.std(axis=0) if fit_intercept else np.sqrt(np.mean(X * X, axis=0))
            if FAMILY_OF_MODEL[model] in ("gaussian", "student_t") and len(args) > 1 and args[1] is not None:
                y = np.asarray(args[1], dtype=np.float64)
                target = y.std() if fit_intercept else np.sqrt(np.mean(y * y))
        else:
            return None
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        if shrinkage:  # centred only: scaling the columns would change the prior's scales
            return cls(mean if centre else np.zeros_like(mean), np.ones_like(scale))
        if target is None or not (np.isfinite(target) and target > 0):
            target = 1.0
        return cls(mean if centre else np.zeros_like(mean), scale * np.sqrt(n) / target)

    def data(self, args: tuple) -> tuple:
        """The model's data arguments on the preconditioned columns (NumPy float64 arrays):
        ``X`` becomes ``(X − mean) / scale``; statistics those of these columns."""
        first, *rest = args
        if isinstance(first, SufficientStats):
            stats = SufficientStats(*(np.asarray(v, dtype=np.float64) for v in first))
            transformed = stats._replace(
                x_mean=(stats.x_mean - self.mean) / self.scale,
                xtx=stats.xtx / np.outer(self.scale, self.scale),
                xty=stats.xty / self.scale,
            )
            return (transformed, *rest)
        return ((np.asarray(first, dtype=np.float64) - self.mean) / self.scale, *rest)

    def prior(self, prior):
        """The prior of ``z = scale ⊙ coef`` for the prior ``prior`` of ``coef``: its rate ``l1``
        divided by ``scale`` and its precision ``l2`` by ``scale²``, leaf by leaf (a leaf with a
        leading chain axis must have shape (num_chains, 1)); None, or a sparsity or hierarchical
        prior (whose ``scale`` is 1), as it is."""
        if not isinstance(prior, Prior):  # None, or a sparsity prior (its columns are only centred)
            return prior
        return dataclasses.replace(prior, l1=prior.l1 / self.scale, l2=prior.l2 / self.scale**2)

    def model_kwargs(self, kwargs: dict) -> dict:
        """``kwargs`` with its ``prior`` carried over to ``z`` (`prior`), if it has one."""
        return {**kwargs, "prior": self.prior(kwargs["prior"])} if "prior" in kwargs else dict(kwargs)

    def to_sampled(self, params: dict) -> dict:
        """Values of the model's sites (e.g. the MAP) as the preconditioned model's: ``coef`` as
        ``z``, the intercept shifted; other sites unchanged."""
        out = dict(params)
        coef = params["coef"]
        out["coef"] = coef * self.scale
        if "intercept" in params:
            out["intercept"] = params["intercept"] + coef @ self.mean
        return out

    def to_original(self, draws: dict) -> dict:
        """Draws of the preconditioned model (leading chain and draw axes) as the original model's:
        ``coef = z / scale``, the intercept shifted back, a scale mixture's ``coef_var`` divided by
        ``scale²`` (``coef_std`` is the same); other sites unchanged. JAX arrays stay JAX arrays
        (computed asynchronously)."""
        out = dict(draws)
        coef = draws["coef"] / self.scale
        out["coef"] = coef
        if "intercept" in draws:
            out["intercept"] = draws["intercept"] - coef @ self.mean
        if "coef_var" in draws:
            out["coef_var"] = draws["coef_var"] / self.scale**2
        return out


@program("loglik", static_argnames=("model", "static", "predictive"))
def _log_likelihood(model, static, seed, draws, X, y, kwargs, *, predictive):
    """Per-observation log-likelihood at every draw (``draws`` shaped (chain, draw, ...), taken
    chain after chain) and, if asked, posterior predictive draws of y."""
    model = functools.partial(model, **dict(static))
    draws = {k: v.reshape((-1, *v.shape[2:])) for k, v in draws.items()}
    key = seed_keys(seed)[1]
    loglik = log_likelihood(model, draws, X, y, **kwargs)["y"]
    predicted = Predictive(model, draws)(key, X, None, **kwargs)["y"] if predictive else None
    return loglik, predicted


def sample_posterior(
    model,
    *args,
    observed: tuple | None = None,
    feature_names=None,
    num_warmup: int | None = None,
    num_samples: int = NUTS.num_samples,
    num_chains: int = NUTS.num_chains,
    seed: int = 0,
    posterior_predictive: bool = False,
    log_likelihood: bool = False,
    laplace_parametrisation: Literal["auto", "collapsed", "direct", "mixture"] = "auto",
    mass_matrix: str = MASS_MATRIX,
    target_accept: float | None = None,
    max_tree_depth: int = MAX_TREE_DEPTH,
    progress_bar: bool | None = None,
    precondition: bool = True,
    **model_kwargs,
) -> az.InferenceData:
    """NUTS samples of ``model(*args, **model_kwargs)``'s posterior, as ArviZ InferenceData.

    Parameters
    ----------
    model : callable
        A model of `bayesreg.models`.
    *args
        Its data arguments (for `~bayesreg.models.linear_regression_stats`, the statistics).
    observed : (model, X, y), optional
        The per-observation form of the same model with its data, used for ``log_likelihood``,
        ``observed_data`` and ``posterior_predictive`` (default: ``(model, *args)`` when ``args``
        is ``(X, y)``). With ``args = (stats,)`` (`~bayesreg.models.SufficientStats`, e.g. from one
        Dask pass) and no ``observed`` there are no rows: no ``observed_data``, ``obs`` coordinate
        or PSIS-LOO, and ``log_likelihood`` or ``posterior_predictive`` is a ValueError.
    feature_names : sequence of str, optional
        Coordinates of the ``feature`` dimension of ``coef``.
    num_warmup : int, optional
        NUTS warmup (adaptation) steps per chain. None (default) is the prior's own
        (`default_num_warmup`): 500 for a flat prior and the penalty priors at a fixed α, whose
        chains start at the MAP; 1000 for the sparsity and hierarchical priors. Kept in
        ``sample_stats.attrs["num_warmup"]``.
    num_samples, num_chains : int
        Kept draws per chain, and chains (defaults `bayesreg.defaults.NUTS`).
    seed : int
        Seed of the sampler: the same seed, settings and device count give the same draws.
    posterior_predictive : bool
        Also draw ``y`` from the posterior predictive at the observed ``X``.
    log_likelihood : bool
        Keep the per-observation log-likelihood of every draw (the ``log_likelihood`` group, n ×
        draws numbers: 611 MB for 20,000 rows and 4,000 draws). Without it, PSIS-LOO is computed in
        blocks of rows as the draws arrive (`bayesreg.loo.pointwise_loo`) and only its per-row
        results are kept, in the group ``loo``; `bayesreg.loo.loo` reads either, and its result goes
        to ``az.compare``.
    laplace_parametrisation : {"auto", "collapsed", "direct", "mixture"}
        What NUTS samples (`bayesreg.params.PARAMETRISATIONS`): "collapsed", the noise sd and the
        prior variances with the coefficients integrated out, which are then drawn exactly at
        each draw (`~bayesreg.models.linear_regression_collapsed`: the Gaussian likelihood under
        a flat, Gaussian or Laplace prior, with σ or the Laplace variances left to sample, or
        under a sparsity prior of `bayesreg.shrinkage`, with its scales left to sample; the
        sampler's geometry then does not depend on the columns' units or their correlation);
        "direct", the model's density; "mixture", a Laplace prior on ``coef`` as
        `~bayesreg.engine.LaplaceScaleMixture`; "auto", collapsed where the model has that form
        and the columns' sds differ by more than `~bayesreg.defaults.SCALE_RATIO` (1e3), else
        direct: each collapsed gradient solves a p × p Cholesky system, which made the diabetes
        lasso's bulk ESS per second 3.8 times lower than direct sampling, where direct sampling
        converges (benchmarks/README.md). Under a sparsity prior of `bayesreg.shrinkage` "auto" is
        collapsed wherever the model has that form (the Gaussian likelihood), whatever the columns'
        units: sampled directly, their scales meet the weights in a funnel, and the horseshoe's
        chains diverged (22 of 8,000 transitions on a 60 × 8 problem at target_accept 0.99) where
        the collapsed chains did not. The collapsed and mixture forms add the site
        ``coef_var`` (the mixture variances; the mixture also ``coef_std``); ``coef`` keeps its name
        and its posterior.
    mass_matrix : {"auto", "dense", "diagonal"}
        The mass matrix NUTS adapts during warmup. ``"auto"`` (`~bayesreg.engine.dense_mass`):
        dense when the model has at most `~bayesreg.engine.DENSE_UP_TO` (20) unconstrained
        parameters, or when their square is at most `~bayesreg.engine.DENSE_DATA_FRACTION` (0.1)
        of the elements of the data the model reads (a model evaluated per row, as logistic
        regression, with up to about n/10 parameters): a dense matrix adapts to correlated
        coefficients, as collinear features make them, and costs little next to the gradient
        there; diagonal otherwise (the linear model from its sufficient statistics or collapsed
        above 20). Kept in ``sample_stats.attrs["mass_matrix"]``.
    target_accept : float in (0, 1), optional
        The mean acceptance probability NUTS's step size adapts to during warmup (default: the
        prior's own, `default_target_accept`: 0.99 for the sparsity priors, else
        `bayesreg.defaults.TARGET_ACCEPT`, numpyro's 0.8): raise it (0.9, 0.95, 0.99) when
        transitions diverge; the steps get smaller and each draw costs more gradients.
    max_tree_depth : int in [1, 15]
        The most doublings of a NUTS trajectory, at most ``2**max_tree_depth`` leapfrog steps per
        draw (default `bayesreg.defaults.MAX_TREE_DEPTH`, 10): raise it when many draws reach it.
    progress_bar : bool, optional
        Show the sampling progress on stderr (default: when stderr is a terminal).
    precondition : bool
        Let the direct and mixture forms sample rescaled weights (`Preconditioning`: an exact change
        of variables, mapped back before the draws are returned), so that neither the columns' units
        nor the number of rows matter to the sampler (default). False samples ``coef`` as it is, for
        comparison.
    **model_kwargs
        Passed to the model (``prior=``, ``sigma=``, ``fit_intercept=`` ...).

    Returns
    -------
    arviz.InferenceData
        ``posterior`` (``coef`` with dims (chain, draw, feature), ``intercept``, ``sigma``),
        ``sample_stats`` (diverging, energy, tree_depth, n_steps, acceptance_rate, lp, step_size),
        ``loo`` (or, with ``log_likelihood=True``, ``log_likelihood``) and ``observed_data`` (``y``
        with dim ``obs``), ``posterior_predictive``.
        The likelihood's fixed parameters (a noise sd, the Student-t's ``df``, the negative
        binomial's ``dispersion``: `LIKELIHOOD_SITES`) are kept in ``posterior.attrs`` under
        their names, and for the models of `~bayesreg.models.FAMILY_OF_MODEL` their family in
        ``posterior.attrs["family"]``: `bayesreg.predictive` reads them.

    Examples
    --------
    Two short chains (50 warmup steps, 50 draws) on 30 rows, σ = 0.3 known: the posterior sd of each
    weight is about 0.06, so the means lie near the weights the data were made with:

    >>> import numpy as np
    >>> from bayesreg.models import linear_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> from bayesreg.sampling import sample_posterior
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 2))
    >>> y = X @ np.array([1.0, -0.5]) + 0.3 * rng.normal(size=30)
    >>> prior = prior_from_penalty("gaussian", 1.0, convention="book")  # Normal(0, 1) on each weight
    >>> idata = sample_posterior(linear_regression, X, y, prior=prior, sigma=0.3, feature_names=["a", "b"],
    ...                          num_warmup=50, num_samples=50, num_chains=2, seed=0, progress_bar=False)
    >>> idata.posterior["coef"].dims, idata.posterior["coef"].shape, idata.loo["elpd_loo"].shape
    (('chain', 'draw', 'feature'), (2, 50, 2), (30,))
    >>> means = idata.posterior["coef"].mean(("chain", "draw"))
    >>> bool(np.allclose(means, [1.0, -0.5], atol=0.2)), idata.posterior.attrs["sigma"]
    (True, 0.3)
    """
    run = _Posterior(
        model,
        args,
        observed=observed,
        feature_names=feature_names,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        seed=seed,
        posterior_predictive=posterior_predictive,
        log_likelihood=log_likelihood,
        mass_matrix=mass_matrix,
        target_accept=target_accept,
        max_tree_depth=max_tree_depth,
        progress_bar=progress_bar,
        model_kwargs=model_kwargs,
        precondition=precondition,
    )
    chains = run.chains(run.resolve(laplace_parametrisation))
    return run.inference_data(chains, run.observe(chains))


def fit_posterior(
    model,
    *args,
    observed: tuple | None = None,
    feature_names=None,
    num_warmup: int | None = None,
    num_samples: int = NUTS.num_samples,
    num_chains: int = NUTS.num_chains,
    seed: int = 0,
    posterior_predictive: bool = False,
    log_likelihood: bool = False,
    laplace_parametrisation: Literal["auto", "collapsed", "direct", "mixture"] = "auto",
    mass_matrix: str = MASS_MATRIX,
    target_accept: float | None = None,
    max_tree_depth: int = MAX_TREE_DEPTH,
    progress_bar: bool | None = None,
    precondition: bool = True,
    sampler: Literal["auto", "nuts", "gibbs"] = "nuts",
    **model_kwargs,
) -> PosteriorFit:
    """The NUTS posterior and the MAP of ``model(*args, **model_kwargs)``, with its diagnostics.

    ``sampler="gibbs"`` samples the Gaussian linear model under a prior of
    `~bayesreg.gibbs.GIBBS_PRIORS` (the horseshoe family and the hierarchical Laplace and Gaussian
    priors) by the Gibbs sampler of `bayesreg.gibbs` instead of NUTS; ``"auto"`` takes it
    where there are more weights than rows (`~bayesreg.gibbs.choose_sampler` says why: each of its
    sweeps costs about one NUTS gradient there). Its fit has the same
    InferenceData groups and diagnostics (``parametrisation`` "gibbs"; the NUTS-only settings
    ``mass_matrix``, ``target_accept``, ``laplace_parametrisation``, ``precondition`` and
    ``progress_bar`` do not apply to it).

    With ``laplace_parametrisation="auto"`` the chains sample the collapsed form where the model
    has one (the Gaussian likelihood under a flat, Gaussian, Laplace or sparsity prior with something
    left to sample: `~bayesreg.models.collapsed_form`) and the columns are badly scaled or the prior
    is a sparsity prior (`sample_posterior`);
    they start first (JAX runs them in the background) and the MAP (from the sufficient
    statistics, `~bayesreg.engine.map.linear_map`) is found while they run. Elsewhere they sample
    the model's density on rescaled columns (`Preconditioning`: on the breast-cancer columns multiplied by
    1e-3 … 1e5 the logistic chains went from R-hat 2.22 and bulk ESS 5 in 329 s to 1.002 and 3,945
    in 9 s, benchmarks/README.md), from the MAP: each chain starts at a draw from the Laplace
    approximation there, with its covariance (the inverse Hessian of the potential) as the initial
    inverse mass matrix (`~bayesreg.engine.chains.sample_chains`'s ``modes``), unless that
    approximation is too ill-conditioned to trust (eigenvalue ratio of the scaled Hessian above
    `~bayesreg.engine.CURVATURE_CONDITION_MAX`): then the chains start uniformly, as without a mode
    (on star98 with a binary target, a nearly separable MAP, the ratio was 5e10, and chains drawn
    from the approximation ended at R-hat 3.87, from the uniform start at 1.008, benchmarks/README.md);
    and
    with a Laplace prior on ``coef`` chains in which any transition diverged are sampled again with
    the scale mixture (from numpyro's uniform start), and the run with fewer divergences is kept
    (`~bayesreg.engine.chains.fall_back_to_mixture`). The diagnostics of the kept run are checked
    last (`~bayesreg.diagnostics.check_diagnostics`: a `~bayesreg.diagnostics.PosteriorWarning`
    for each threshold crossed).

    The sparsity priors of `bayesreg.shrinkage` and the hierarchical priors of
    `bayesreg.hierarchical` have no MAP (their densities are unbounded at 0): none is sought, ``map``
    is None; under the Gaussian likelihood they sample the collapsed form; elsewhere (the logistic,
    Poisson, negative binomial and Student-t models) the chains sample the model's density on
    centred columns and start from the mode of that density on the unconstrained space, with the
    Laplace approximation there (`shrinkage_start`; on 600 unscaled rows of statsmodels' fair, a
    Poisson regression under the horseshoe from numpyro's uniform start ended at R-hat 1.61 and
    bulk ESS 7 with seeds 0 and 1, from this start at R-hat 1.002-1.007, benchmarks/README.md);
    ``target_accept`` defaults to the prior's 0.99. The count and Student-t models then sample their
    weights standardised by the likelihood's Gaussian approximation at that mode (the keyword
    ``conditioning``, `~bayesreg.models.shrinkage.WeightConditioning`; site ``coef_c``): the same
    posterior, without the funnel of non-centred weights the data pin down (the horseshoe on those
    600 rows of fair: 78 divergent transitions of 4,000 non-centred, 0 conditioned; 0 in every fit
    of the whole of fair (Poisson and NB2) and randhie (Poisson) under the horseshoe, the
    regularised horseshoe, R2D2 and the hierarchical Laplace prior, and of randhie NB2 under all
    but R2D2, benchmarks/README.md).

    Parameters
    ----------
    model, *args, observed, feature_names, num_warmup, num_samples, num_chains, seed
        As for `sample_posterior` (``num_warmup`` None: the prior's own, `default_num_warmup`).
    posterior_predictive, log_likelihood, mass_matrix, target_accept, max_tree_depth
        As for `sample_posterior`.
    progress_bar, precondition, **model_kwargs
        As for `sample_posterior`.
    sampler : {"auto", "nuts", "gibbs"}
        NUTS, the Gibbs sampler (`~bayesreg.gibbs.gibbs_fit`), or the choice of
        `~bayesreg.gibbs.choose_sampler`.
    laplace_parametrisation : {"auto", "collapsed", "direct", "mixture"}
        As for `sample_posterior`, except that "auto" without a collapsed form samples a Laplace
        prior directly, and again as the mixture if any transition diverged.

    Returns
    -------
    PosteriorFit

    Warns
    -----
    bayesreg.diagnostics.PosteriorWarning
        For each diagnostic past its threshold.
    sklearn.exceptions.ConvergenceWarning
        If the MAP did not converge.

    Examples
    --------
    The chains of `sample_posterior`'s example with the MAP next to them (here the ridge estimate:
    a Normal prior); 100 draws are too few for the diagnostics' ESS threshold, so their warning is
    silenced:

    >>> import warnings
    >>> import numpy as np
    >>> from bayesreg.models import linear_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> from bayesreg.sampling import fit_posterior
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 2))
    >>> y = X @ np.array([1.0, -0.5]) + 0.3 * rng.normal(size=30)
    >>> prior = prior_from_penalty("gaussian", 1.0, convention="book")  # Normal(0, 1) on each weight
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     fit = fit_posterior(linear_regression, X, y, prior=prior, sigma=0.3, num_warmup=50,
    ...                         num_samples=50, num_chains=2, seed=0, progress_bar=False)
    >>> design = np.column_stack([X, np.ones(30)])  # ridge with penalty σ² = 0.09 on the weights only
    >>> ridge = np.linalg.solve(design.T @ design + np.diag([0.09, 0.09, 0.0]), design.T @ y)
    >>> bool(np.allclose(fit.map.params["coef"], ridge[:2], rtol=1e-9)), fit.parametrisation, fit.mass_matrix
    (True, 'direct', 'dense')
    >>> fit.diagnostics.divergences, fit.idata.posterior["coef"].shape
    (0, (2, 50, 2))
    """
    from bayesreg.gibbs import choose_sampler, gibbs_fit  # it builds its PosteriorFit from here

    options = {
        "observed": observed,
        "posterior_predictive": posterior_predictive,
        "log_likelihood": log_likelihood,
    }
    if choose_sampler(sampler, model, args, **options, **model_kwargs) == "gibbs":
        return gibbs_fit(
            model,
            args,
            observed=observed,
            feature_names=feature_names,
            num_warmup=default_num_warmup(model_kwargs.get("prior")) if num_warmup is None else num_warmup,
            num_samples=num_samples,
            num_chains=num_chains,
            seed=seed,
            max_tree_depth=max_tree_depth,
            **model_kwargs,
        )
    prior = model_kwargs.get("prior")
    laplace = prior is not None and prior.kind == "laplace"
    has_map = not isinstance(prior, SHRINKAGE_TYPES)  # a sparsity prior's density is unbounded at 0
    run_options = {
        "observed": observed,
        "feature_names": feature_names,
        "num_warmup": num_warmup,
        "num_samples": num_samples,
        "num_chains": num_chains,
        "seed": seed,
        "posterior_predictive": posterior_predictive,
        "log_likelihood": log_likelihood,
        "mass_matrix": mass_matrix,
        "target_accept": target_accept,
        "max_tree_depth": max_tree_depth,
        "progress_bar": progress_bar,
        "precondition": precondition,
    }
    run = _Posterior(model, args, model_kwargs=model_kwargs, **run_options)
    parametrisation = run.resolve(laplace_parametrisation)
    if parametrisation == "direct" and has_map:  # the chains start from the MAP and the curvature there
        mode = map_estimate(model, *args, **model_kwargs)
        chains = run.chains(parametrisation, mode=mode.params)
        observations = run.observe(chains)
    elif parametrisation == "direct" and model in FAMILY_OF_MODEL and run.X is not None:
        mode = None  # no MAP: from the unconstrained density's mode and the curvature there
        pre = run.preconditioning
        start = shrinkage_start(model, args if pre is None else pre.data(args), model_kwargs)
        if start.conditioning is not None:  # the same posterior, its weights standardised by the data
            conditioned = {**model_kwargs, "conditioning": start.conditioning}
            run = _Posterior(model, args, model_kwargs=conditioned, **run_options)
        chains = run.chains(parametrisation, position=start.position)
        observations = run.observe(chains)
    else:
        chains = run.chains(parametrisation)
        observations = run.observe(chains)
        run.start_loo(chains)  # these chains are kept: their PSIS-LOO overlaps the MAP
        mode = None
        if has_map and parametrisation == "collapsed":  # while the chains run, from the statistics
            mode = _map_from_stats(model_kwargs, *run.collapsed_args)
        elif has_map:
            mode = map_estimate(model, *args, **model_kwargs)
    if laplace and laplace_parametrisation == "auto" and parametrisation == "direct":
        group = run.settings["num_chains"]
        kept = fall_back_to_mixture(chains, lambda: run.chains("mixture"), group_size=group)
        if kept is not chains:
            chains, observations = kept, run.observe(kept)
    idata = run.inference_data(chains, observations)
    return PosteriorFit(
        idata=idata,
        map=mode,
        diagnostics=check_diagnostics(idata, max_tree_depth=run.settings["max_tree_depth"]),
        parametrisation="mixture" if chains.mixture.all() else parametrisation,
        mass_matrix=str(chains.mass_matrix[0]),
    )


class _Posterior:
    """The arguments of `sample_posterior` as arrays, and the steps of its runs.

    The NUTS settings and the seed are checked here (`bayesreg.params.check_params`), for
    `sample_posterior` and `fit_posterior` alike. Made before the chains start: ArviZ, which
    `inference_data` needs, is imported meanwhile in a thread (`_import_in_background`). `chains`
    and `observe` dispatch the chains and their log-likelihood (JAX runs them in the background);
    work done before `inference_data` (the MAP, say) overlaps sampling, as long as it does not wait
    on a result JAX computes after the chains.
    """

    def __init__(
        self,
        model,
        args,
        *,
        observed,
        feature_names,
        num_warmup,
        num_samples,
        num_chains,
        seed,
        posterior_predictive,
        log_likelihood,
        mass_matrix,
        target_accept,
        max_tree_depth,
        progress_bar,
        model_kwargs,
        precondition=True,
    ):
        if target_accept is None:
            target_accept = default_target_accept(model_kwargs.get("prior"))
        if num_warmup is None:
            num_warmup = default_num_warmup(model_kwargs.get("prior"))
        sampler = {
            "num_chains": num_chains,
            "num_warmup": num_warmup,
            "num_samples": num_samples,
            "seed": seed,
            "mass_matrix": mass_matrix,
            "target_accept": target_accept,
            "max_tree_depth": max_tree_depth,
        }
        sampler = check_params(sampler)
        seed = sampler.pop("seed")
        _import_in_background("arviz")
        rows = observed if observed is not None else (model, *args)
        if observed is None and args and isinstance(args[0], SufficientStats):
            asked = [
                name
                for name, on in (
                    ("log_likelihood", log_likelihood),
                    ("posterior_predictive", posterior_predictive),
                )
                if on
            ]
            if asked:
                raise ValueError(
                    f"{' and '.join(asked)}=True needs the rows, which SufficientStats do not hold: "
                    "pass observed=(model, X, y), or leave it False"
                )
            rows = (model, None, None)  # the statistics only: no observed_data, LOO or predictions
        self.obs_model, X, y = rows
        self.model, self.feature_names, self.model_kwargs = model, feature_names, model_kwargs
        self.predictive, self.keep_log_likelihood = posterior_predictive, log_likelihood
        self.settings = {
            **sampler,
            "progress_bar": sys.stderr.isatty() if progress_bar is None else progress_bar,
        }
        try:
            self.collapsed, collapsed_args = collapsed_form(model, args, model_kwargs)
        except ValueError as reason:
            self.collapsed, collapsed_args, self.not_collapsible = None, (), str(reason)
        self.preconditioning = Preconditioning.of(model, args, model_kwargs) if precondition else None
        with jax.enable_x64(True):
            self.args, self.kwargs, self.X, self.y = as_arrays((args, model_kwargs, X, y))
            self.collapsed_args = as_arrays(collapsed_args)
            self.direct_args, self.direct_kwargs = self.args, self.kwargs
            if self.preconditioning is not None:
                direct = (self.preconditioning.data(args), self.preconditioning.model_kwargs(model_kwargs))
                self.direct_args, self.direct_kwargs = as_arrays(direct)
            self.seed = np.asarray(seed, dtype=np.int64)  # the keys come from it inside the programs
        prior = model_kwargs.get("prior")
        self.laplace = prior is not None and prior.kind == "laplace"
        self.parametrisation = "direct"
        self.pending_loo = None

    def resolve(self, requested: str) -> Literal["collapsed", "direct", "mixture"]:
        """What the chains sample for the setting ``requested`` (checked here): "auto" is collapsed
        where the model has that form and the columns' sds differ by more than
        `~bayesreg.defaults.SCALE_RATIO`, else direct (a sparsity prior: collapsed wherever the
        model has that form); "mixture" applies to a Laplace prior only (the others are sampled
        directly); "collapsed" where there is no collapsed form is an error saying why."""
        requested = check_param("laplace_parametrisation", requested)
        if requested == "collapsed" and self.collapsed is None:
            raise ValueError(f"laplace_parametrisation='collapsed' is not available: {self.not_collapsible}")
        if requested == "auto":
            shrinkage = isinstance(self.model_kwargs.get("prior"), SHRINKAGE_TYPES)
            prefer = shrinkage or self.scale_ratio() > SCALE_RATIO
            return "collapsed" if self.collapsed is not None and prefer else "direct"
        if requested == "mixture" and not self.laplace:
            return "direct"
        return requested

    def scale_ratio(self) -> float:
        """`~bayesreg.diagnostics.column_scale_ratio` of the rows, or without rows of the columns'
        root mean squares about their means in the statistics (their sds, with centring)."""
        if self.X is not None:
            return column_scale_ratio(self.X)
        stats = self.args[0]
        sd = np.sqrt(np.diag(np.asarray(stats.xtx)) / float(stats.n))
        sd = sd[sd > 0]
        return float(sd.max() / sd.min()) if sd.size >= 2 else 1.0

    def chains(
        self, parametrisation: Literal["collapsed", "direct", "mixture"], mode=None, position=None
    ) -> Chains:
        """Dispatch the chains of the model in the form ``parametrisation`` (as `resolve` gives it);
        with ``mode`` (the MAP's values of the direct model's sites) or ``position`` (a mode of the
        preconditioned direct model on its unconstrained space, `shrinkage_start`) they start from
        the Laplace approximation there (`~bayesreg.engine.chains.sample_chains`'s ``modes``)."""
        self.parametrisation = parametrisation
        if parametrisation == "collapsed":
            model, args, kwargs, pre = self.collapsed, self.collapsed_args, self.kwargs, None
        else:
            model, args, kwargs, pre = self.model, self.direct_args, self.direct_kwargs, self.preconditioning
        with jax.enable_x64(True):
            modes = None
            if mode is not None:
                mode = dict(mode) if pre is None else pre.to_sampled(dict(mode))
                position = unconstrain_fn(model, args, kwargs, as_arrays(mode))
            if position is not None:
                num_chains = self.settings["num_chains"]
                modes = jax.tree.map(lambda v: np.repeat(np.asarray(v)[None], num_chains, axis=0), position)
            chains = sample_chains(
                model,
                self.seed,
                args,
                kwargs,
                modes=modes,
                laplace_mixture=parametrisation == "mixture",
                **self.settings,
            )
            return chains if pre is None else chains._replace(draws=pre.to_original(chains.draws))

    def observe(self, chains: Chains) -> tuple | None:
        """Dispatch the per-observation log-likelihood of the chains' draws and posterior predictive
        draws of y on the first device (the chains may be on several), if either is asked for."""
        if self.X is None or not (self.keep_log_likelihood or self.predictive):
            return None
        dynamic, static = split_static(self.kwargs)
        with jax.enable_x64(True):
            seed, draws, dynamic = jax.device_put((self.seed, chains.draws, dynamic), jax.local_devices()[0])
            return _log_likelihood(
                self.obs_model, static, seed, draws, self.X, self.y, dynamic, predictive=self.predictive
            )

    def start_loo(self, chains: Chains) -> None:
        """Start the PSIS-LOO of the chains' draws in the background, where the log-likelihood is not
        kept (`~bayesreg.loo.start_pointwise_loo`; it waits for the draws); `inference_data` of
        these chains joins it. Only for chains that are kept: a run sampled again does not use it;
        and only with rows (statistics alone have no per-row log-likelihood)."""
        if self.X is not None and not self.keep_log_likelihood:
            pending = start_pointwise_loo(self.obs_model, chains.draws, self.X, self.y, **self.model_kwargs)
            self.pending_loo = chains.draws, pending

    def inference_data(self, chains: Chains, observations: tuple) -> az.InferenceData:
        """The InferenceData of the chains and their observations, once computed."""
        import arviz as az  # waits for `_import_in_background` to finish it

        chains = chains.wait()
        loglik, predicted = observations if observations is not None else (None, None)
        num_chains, num_samples = self.settings["num_chains"], self.settings["num_samples"]
        groups = {
            "posterior": {k: np.asarray(v) for k, v in chains.draws.items()},
            "sample_stats": arviz_sample_stats(chains.stats),
        }
        if self.y is not None:
            groups["observed_data"] = {"y": np.asarray(self.y)}
        if self.keep_log_likelihood:
            groups["log_likelihood"] = {"y": np.asarray(loglik).reshape(num_chains, num_samples, -1)}
        if self.predictive:
            groups["posterior_predictive"] = {"y": np.asarray(predicted).reshape(num_chains, num_samples, -1)}
        p = self.X.shape[1] if self.X is not None else self.args[0].xty.shape[0]
        names = self.feature_names if self.feature_names is not None else [f"x{j}" for j in range(p)]
        coords = {"feature": [str(name) for name in names]}
        if self.X is not None:
            coords["obs"] = np.arange(self.X.shape[0])
        idata = az.from_dict(
            **groups,
            coords=coords,
            dims={**{name: ["feature"] for name in FEATURE_SITES}, "y": ["obs"]},
        )
        if self.X is not None and not self.keep_log_likelihood:
            if self.pending_loo is None or self.pending_loo[0] is not chains.draws:
                self.start_loo(chains)  # not started for these chains
            add_loo(idata, self.pending_loo[1].result())
        idata.sample_stats.attrs["mass_matrix"] = str(chains.mass_matrix[0])
        idata.sample_stats.attrs["num_warmup"] = self.settings["num_warmup"]
        mixture = chains.mixture.all() and self.parametrisation != "collapsed"
        idata.sample_stats.attrs["parametrisation"] = "mixture" if mixture else self.parametrisation
        idata.posterior.attrs.update(self.fixed_values())
        family = FAMILY_OF_MODEL.get(self.obs_model)
        if family is not None:
            idata.posterior.attrs["family"] = family
        return idata

    def fixed_values(self) -> dict:
        """The likelihood's parameters that are fixed numbers, not posterior variables
        (`LIKELIHOOD_SITES`): given as keywords, or the defaults of the per-observation model's
        signature (σ = 1 of the linear and Student-t models)."""
        model = self.obs_model if self.obs_model is not None else self.model
        try:
            parameters = inspect.signature(model).parameters
        except (TypeError, ValueError):
            parameters = {}
        fixed = {}
        for name in LIKELIHOOD_SITES:
            value = self.model_kwargs.get(name)
            if value is None and name in parameters:
                value = parameters[name].default
            if value is not None and value is not inspect.Parameter.empty:
                if not isinstance(value, dist.Distribution):
                    fixed[name] = float(value)
        return fixed


RIDGE_START_PRECISION = 1e-2
"""The precision per unit column variance of the weak Gaussian (ridge) prior whose MAP places the
chains of a sparsity or hierarchical prior (`shrinkage_start`): ``l2_j = 0.01 · var(x_j)``, a
Normal(0, 10²) prior on the effect of one sd of each column, whatever the columns' units."""


class ShrinkageStart(NamedTuple):
    """Where the chains of a sparsity or hierarchical prior start, and how they sample the weights
    (`shrinkage_start`).

    Attributes
    ----------
    position : dict
        The mode of the density on the unconstrained space, site by site (float64), in the
        parametrisation ``conditioning`` gives.
    conditioning : WeightConditioning or None
        The model keyword ``conditioning`` (`~bayesreg.models.shrinkage.sample_shrinkage_coef`);
        None for a model without that keyword (the logistic regression), which samples
        non-centred weights.

    Examples
    --------
    >>> from bayesreg.sampling import ShrinkageStart
    >>> ShrinkageStart._fields
    ('position', 'conditioning')
    """

    position: dict
    conditioning: WeightConditioning | None


def _unconstrained_mode(model, args, kwargs, latent: dict) -> dict:
    """BFGS (scipy) from ``latent`` (unconstrained values) to the mode of the model's density on the
    unconstrained space (minus the potential energy, the log-Jacobians of the constrained sites
    included); the mode as unconstrained values."""
    from scipy.optimize import minimize

    flat, unravel = ravel_pytree(jax.tree.map(jax.numpy.asarray, latent))
    energy = jax.jit(jax.value_and_grad(lambda x: potential_energy(model, args, kwargs, unravel(x))))

    def objective(x):
        value, grad = energy(x)
        return float(value), np.asarray(grad, dtype=np.float64)

    found = minimize(objective, np.asarray(flat), jac=True, method="BFGS")
    return jax.tree.map(np.asarray, unravel(jax.numpy.asarray(found.x)))


def _weight_sd(model, args, kwargs, constrained: dict) -> np.ndarray:
    """The prior sd ``s`` of each weight at the sites' values ``constrained`` (``coef`` at
    ``coef_z = 1`` of the non-centred model)."""
    values = {**constrained, "coef_z": np.ones_like(np.asarray(constrained["coef_z"]))}
    seeded = handlers.substitute(handlers.seed(model, rng_seed=0), data=values)
    return np.asarray(handlers.trace(seeded).get_trace(*args, **kwargs)["coef"]["value"])


def shrinkage_start(model, args: tuple, model_kwargs: dict) -> ShrinkageStart:
    """Where the chains of a model under a sparsity or hierarchical prior start, and the Gaussian
    approximation of the likelihood their weights are standardised by: from the mode of the
    density on the unconstrained space.

    Such a prior has no MAP (its density in ``coef`` is unbounded where the weights and the global
    scale go to 0 together), but its non-centred form (``coef = coef_z · s``, the scales ``s``
    sampled on the log scale, `bayesreg.models.shrinkage`) has a bounded density on the
    unconstrained space, the log-Jacobian of the scales included: that density's mode is found by
    BFGS (scipy) from a start built from a weak ridge MAP: the intercept, the likelihood's own
    parameters and ``coef`` at the MAP under ``Normal(0, 1/l2_j)`` with ``l2_j`` =
    `RIDGE_START_PRECISION` · the variance of column j (`~bayesreg.engine.map_estimate`), the
    prior's scale sites at their prior medians (numpyro's ``init_to_median``), and ``coef_z`` the
    ridge weights divided by the weights' sds these scales give.

    Where the model takes the keyword ``conditioning`` (the count and Student-t models), the mode
    also gives the likelihood's Gaussian approximation in each weight
    (`~bayesreg.models.shrinkage.WeightConditioning`): with ``coef = z·s`` the potential's
    curvature in ``z_j`` is ``1 + ℓ_j s_j²``, which gives the information ``ℓ_j``, and at the mode
    the likelihood's slope in ``coef_j`` balances the prior's pull ``coef_j/s_j²``, so its slope at 0
    is ``b_j = coef_j (ℓ_j + s_j⁻²)``. BFGS then finds the mode again with the weights sampled
    standardised by it (``coef_c``), from the first mode carried over. `fit_posterior` draws each
    chain's start from the Laplace approximation at the mode, whose covariance is the chains'
    initial inverse mass matrix (`~bayesreg.engine.chains.sample_chains`'s ``modes``), and samples
    with that conditioning: only where the chains start and the geometry they see change, not the
    posterior.

    Parameters
    ----------
    model : callable
        A model of `~bayesreg.models.FAMILY_OF_MODEL`, called ``model(X, y, **model_kwargs)``.
    args : tuple
        ``(X, y)``, NumPy arrays (the columns as the chains see them).
    model_kwargs : dict
        Its keywords, ``prior`` a prior of `~bayesreg.models.shrinkage.SHRINKAGE_TYPES`.

    Returns
    -------
    ShrinkageStart
        The mode's value of each latent sample site on the unconstrained space (float64), and the
        conditioning (None for a model without that keyword).

    Examples
    --------
    A horseshoe on a Poisson regression, 200 rows of unit-sd columns: the information about each
    weight is about the sum of the fitted means times the column's square (Poisson), and the weights
    at the mode lie near the ridge MAP's:

    >>> import numpy as np
    >>> from bayesreg.models import poisson_regression
    >>> from bayesreg.sampling import shrinkage_start
    >>> from bayesreg.shrinkage import Horseshoe
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = rng.poisson(np.exp(0.5 + X @ np.array([1.0, 0.0, -0.5]))).astype(float)
    >>> start = shrinkage_start(poisson_regression, (X, y), {"prior": Horseshoe()})
    >>> sorted(start.position)
    ['coef_c', 'intercept', 'lambda', 'tau']
    >>> information, shift = start.conditioning
    >>> bool(np.all(information > 100))
    True
    >>> s = np.exp(start.position["lambda"] + start.position["tau"])
    >>> precision = information + s**-2.0
    >>> coef = shift / precision + start.position["coef_c"] / np.sqrt(precision)
    >>> bool(np.allclose(coef, [1.0, 0.0, -0.5], atol=0.15))
    True
    """
    from sklearn.exceptions import ConvergenceWarning

    X = np.asarray(args[0], dtype=np.float64)
    variance = X.var(axis=0)
    variance = np.where(np.isfinite(variance) & (variance > 0), variance, 1.0)
    ridge_prior = Prior("gaussian", 0.0, RIDGE_START_PRECISION * variance)
    model_kwargs = {k: v for k, v in model_kwargs.items() if k != "conditioning"}
    with warnings.catch_warnings():  # a start need not be converged to the last digit
        warnings.simplefilter("ignore", ConvergenceWarning)
        ridge = map_estimate(model, *args, **{**model_kwargs, "prior": ridge_prior}).params
    values = {name: np.asarray(v, dtype=np.float64) for name, v in ridge.items() if name != "coef"}
    values["coef_z"] = np.ones(X.shape[1])

    def start_value(site):
        return values[site["name"]] if site["name"] in values else init_to_median(site)

    with jax.enable_x64(True):
        args, kwargs = as_arrays((args, model_kwargs))
        seeded = handlers.substitute(handlers.seed(model, rng_seed=0), substitute_fn=start_value)
        trace = handlers.trace(seeded).get_trace(*args, **kwargs)
        sd = np.asarray(trace["coef"]["value"])  # coef = coef_z · sd, at coef_z = 1
        values["coef_z"] = np.asarray(ridge["coef"]) / np.where(sd > 0, sd, 1.0)
        latent = {
            name: jax.numpy.asarray(values.get(name, site["value"]))
            for name, site in trace.items()
            if site["type"] == "sample" and not site["is_observed"]
        }
        mode = _unconstrained_mode(model, args, kwargs, unconstrain_fn(model, args, kwargs, latent))
        if "conditioning" not in inspect.signature(model).parameters:
            return ShrinkageStart(mode, None)

        def energy_in_z(z):
            return potential_energy(model, args, kwargs, {**mode, "coef_z": z})

        z = np.asarray(mode["coef_z"])
        curvature = np.diagonal(np.asarray(jax.jit(jax.hessian(energy_in_z))(jax.numpy.asarray(z))))
        sd = np.abs(_weight_sd(model, args, kwargs, constrain_fn(model, args, kwargs, mode)))
        sd = np.where(sd > 0, sd, 1.0)
        information = np.maximum(curvature - 1.0, 0.0) / sd**2  # 1 is the N(0, 1) prior's curvature
        precision = information + sd**-2.0
        coef = z * sd
        conditioning = WeightConditioning(information, coef * precision)
        latent = {name: v for name, v in mode.items() if name != "coef_z"}
        latent["coef_c"] = np.zeros_like(z)  # coef at the conditional mean: the mode's coef
        kwargs = {**kwargs, "conditioning": as_arrays(conditioning)}
        return ShrinkageStart(_unconstrained_mode(model, args, kwargs, latent), conditioning)


def _map_from_stats(model_kwargs: dict, stats: SufficientStats) -> MAPResult:
    """The MAP of the Gaussian linear model with keywords ``model_kwargs`` from its statistics
    ``stats`` (those of its collapsed form): its negative log joint depends on the rows through them
    only, so its cost does not grow with n, as that of `~bayesreg.engine.map_estimate` on the rows
    does, and no program is compiled. On the host by `~bayesreg.engine.map.linear_map`, as the
    estimators' MAP (it runs `map_estimate` on the statistics where its host solver does not
    apply)."""
    options = {k: model_kwargs[k] for k in ("sigma", "fit_intercept") if k in model_kwargs}
    return linear_map(stats, prior=model_kwargs.get("prior"), **options)


def _import_in_background(name: str) -> None:
    """Start importing module ``name`` in a daemon thread, unless it is imported already; a later
    ``import name`` waits for that import to end (or fails as it would have).

    ArviZ's import (about 0.9 s of Python: matplotlib, xarray, scipy.signal) then runs while this
    thread waits on XLA with the GIL released, loading the sampler's programs and running them: a
    second ``bayesreg fit --method nuts`` ended 0.3 s sooner (median of 8 runs) than when it imported
    ArviZ after dispatching the chains, which take less time than that import (benchmarks/README.md)."""
    if name in sys.modules:
        return

    def load():
        with contextlib.suppress(Exception):  # the caller's own import raises the error
            importlib.import_module(name)

    threading.Thread(target=load, name=f"bayesreg-import-{name}", daemon=True).start()


def arviz_sample_stats(stats: dict) -> dict:
    """The chains' NUTS statistics (numpyro's names) as ArviZ's ``sample_stats`` variables.

    Parameters
    ----------
    stats : dict
        ``diverging``, ``energy``, ``num_steps``, ``accept_prob``, ``potential_energy`` and
        ``step_size``, each of shape (chains, draws) (`~bayesreg.engine.chains.Chains.stats`).

    Returns
    -------
    dict
        ``diverging``, ``energy``, ``n_steps``, ``tree_depth`` (1 + ⌊log₂ n_steps⌋), ``acceptance_rate``,
        ``lp`` (minus the potential energy) and ``step_size``, NumPy arrays of shape (chains, draws).

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.sampling import arviz_sample_stats
    >>> ones = np.ones((2, 3))
    >>> stats = {"diverging": ones == 0, "energy": ones, "num_steps": 7 * ones, "accept_prob": ones,
    ...          "potential_energy": 2 * ones, "step_size": ones}
    >>> out = arviz_sample_stats(stats)
    >>> int(out["tree_depth"][0, 0]), float(out["lp"][0, 0])
    (3, -2.0)
    """
    num_steps = np.asarray(stats["num_steps"])
    return {
        "diverging": np.asarray(stats["diverging"]),
        "energy": np.asarray(stats["energy"]),
        "n_steps": num_steps,
        "tree_depth": np.floor(np.log2(np.maximum(num_steps, 1))).astype(int) + 1,
        "acceptance_rate": np.asarray(stats["accept_prob"]),
        "lp": -np.asarray(stats["potential_energy"]),
        "step_size": np.asarray(stats["step_size"]),
    }
