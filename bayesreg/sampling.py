"""How to infer the whole posterior: NUTS (numpyro) into an ArviZ InferenceData.

`sample_posterior` runs NUTS on a model of `bayesreg.models` and returns one InferenceData with the
groups ``posterior``, ``sample_stats``, ``log_likelihood`` (one entry per observation, for LOO),
``observed_data`` and, on request, ``posterior_predictive``. Chains run vectorised on one device,
in parallel when there is a device per chain. Compiled samplers are kept per model, settings and
data shape, so refitting new data of the same shape does not recompile.
"""

from __future__ import annotations

import functools
import sys

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro import handlers
from numpyro.infer import MCMC, NUTS, Predictive, log_likelihood
from numpyro.infer.reparam import Reparam

__all__ = ["LaplaceScaleMixture", "sample_posterior"]


class LaplaceScaleMixture(Reparam):
    """Non-centred normal–exponential scale mixture for a Laplace site.

    ``w ~ Laplace(μ, b)`` is sampled as ``w = μ + z·√v`` with ``z ~ N(0, 1)`` (site ``{name}_std``)
    and ``v ~ Exponential(rate = 1/(2b²))`` (site ``{name}_var``): the same marginal law
    (Andrews & Mallows 1974; Park & Casella 2008) without the kink at ``μ`` that makes NUTS
    diverge. Sites with another distribution pass through unchanged.
    """

    def __call__(self, name, fn, obs):
        base, expand_shape, event_dim = self._unwrap(fn)
        if obs is not None or not isinstance(base, dist.Laplace):
            return fn, obs
        rate = 0.5 / jnp.square(base.scale)
        variance = numpyro.sample(f"{name}_var", self._wrap(dist.Exponential(rate), expand_shape, event_dim))
        std = numpyro.sample(
            f"{name}_std", self._wrap(dist.Normal(jnp.zeros_like(base.loc)), expand_shape, event_dim)
        )
        return None, base.loc + std * jnp.sqrt(variance)


_EXTRA_FIELDS = (
    "diverging",
    "energy",
    "num_steps",
    "accept_prob",
    "potential_energy",
    "adapt_state.step_size",
)


def _chain_method(num_chains: int) -> str:
    return "parallel" if jax.local_device_count() >= num_chains > 1 else "vectorized"


@functools.lru_cache(maxsize=32)
def _sampler(
    model, static, num_warmup, num_samples, num_chains, chain_method, progress_bar, signature, mixture
):
    """One MCMC object (and so one compiled sampler) per model, settings and argument shapes."""
    model = functools.partial(model, **dict(static))
    if mixture:
        model = handlers.reparam(model, config={"coef": LaplaceScaleMixture()})
    kernel = NUTS(model)
    return MCMC(
        kernel,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method=chain_method,
        progress_bar=progress_bar,
        jit_model_args=True,
    )


def sample_posterior(
    model,
    *args,
    observed: tuple | None = None,
    feature_names=None,
    num_warmup: int = 1000,
    num_samples: int = 1000,
    num_chains: int = 4,
    seed: int = 0,
    posterior_predictive: bool = False,
    laplace_mixture: bool = False,
    progress_bar: bool | None = None,
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
        ``observed_data`` and ``posterior_predictive`` (default: ``(model, *args)``, which must then
        be ``(X, y)``).
    feature_names : sequence of str, optional
        Coordinates of the ``feature`` dimension of ``coef``.
    num_warmup, num_samples, num_chains : int
        NUTS settings; draws per chain.
    seed : int
        Seed of the sampler: the same seed, settings and chain method give the same draws.
    posterior_predictive : bool
        Also draw ``y`` from the posterior predictive at the observed ``X``.
    laplace_mixture : bool
        Sample a Laplace prior on ``coef`` through `LaplaceScaleMixture` (extra sites ``coef_std``,
        ``coef_var``; ``coef`` keeps its name and its posterior).
    progress_bar : bool, optional
        Show numpyro's progress bar (default: when stderr is a terminal).
    **model_kwargs
        Passed to the model (``prior=``, ``sigma=``, ``fit_intercept=`` ...).

    Returns
    -------
    arviz.InferenceData
        ``posterior`` (``coef`` with dims (chain, draw, feature), ``intercept``, ``sigma``),
        ``sample_stats`` (diverging, energy, tree_depth, n_steps, acceptance_rate, lp, step_size),
        ``log_likelihood`` and ``observed_data`` (``y`` with dim ``obs``), ``posterior_predictive``.
        A fixed noise sd is kept in ``posterior.attrs["sigma"]``.
    """
    obs_model, X, y = observed if observed is not None else (model, *args)
    static = tuple(sorted((k, v) for k, v in model_kwargs.items() if isinstance(v, bool | str)))
    dynamic = {k: v for k, v in model_kwargs.items() if not isinstance(v, bool | str)}
    if progress_bar is None:
        progress_bar = sys.stderr.isatty()
    with jax.enable_x64(True):
        args = jax.tree.map(lambda a: jnp.asarray(a, dtype=float), args)
        signature = (
            tuple(np.shape(a) for a in jax.tree.leaves(args)),
            jax.tree.structure(dynamic),
        )
        mcmc = _sampler(
            model,
            static,
            num_warmup,
            num_samples,
            num_chains,
            _chain_method(num_chains),
            bool(progress_bar),
            signature,
            laplace_mixture,
        )
        key_run, key_ppc = jax.random.split(jax.random.PRNGKey(seed))
        mcmc.run(key_run, *args, extra_fields=_EXTRA_FIELDS, **dynamic)
        draws = mcmc.get_samples(group_by_chain=True)
        extra = mcmc.get_extra_fields(group_by_chain=True)
        flat = {k: v.reshape((-1, *v.shape[2:])) for k, v in draws.items()}
        X, y = jnp.asarray(X, dtype=float), jnp.asarray(y, dtype=float)
        obs_kwargs = {**dynamic, **dict(static)}
        loglik = log_likelihood(obs_model, flat, X, y, **obs_kwargs)["y"]
        groups = {
            "posterior": {k: np.asarray(v) for k, v in draws.items()},
            "sample_stats": _sample_stats(extra),
            "log_likelihood": {"y": np.asarray(loglik).reshape(num_chains, num_samples, -1)},
            "observed_data": {"y": np.asarray(y)},
        }
        if posterior_predictive:
            predicted = Predictive(obs_model, flat)(key_ppc, X, None, **obs_kwargs)["y"]
            groups["posterior_predictive"] = {"y": np.asarray(predicted).reshape(num_chains, num_samples, -1)}
    names = feature_names if feature_names is not None else [f"x{j}" for j in range(X.shape[1])]
    idata = az.from_dict(
        **groups,
        coords={"feature": [str(n) for n in names], "obs": np.arange(X.shape[0])},
        dims={"coef": ["feature"], "y": ["obs"]},
    )
    sigma = model_kwargs.get("sigma")
    if sigma is not None and not isinstance(sigma, dist.Distribution):
        idata.posterior.attrs["sigma"] = float(sigma)  # a fixed noise sd is not a posterior variable
    return idata


def _sample_stats(extra: dict) -> dict:
    num_steps = np.asarray(extra["num_steps"])
    return {
        "diverging": np.asarray(extra["diverging"]),
        "energy": np.asarray(extra["energy"]),
        "n_steps": num_steps,
        "tree_depth": np.floor(np.log2(np.maximum(num_steps, 1))).astype(int) + 1,
        "acceptance_rate": np.asarray(extra["accept_prob"]),
        "lp": -np.asarray(extra["potential_energy"]),
        "step_size": np.asarray(extra["adapt_state.step_size"]),
    }
