"""The posterior by NUTS (numpyro), as an ArviZ InferenceData.

`sample_posterior` runs NUTS on a model of `bayesreg.models` and returns one InferenceData with the
groups ``posterior``, ``sample_stats``, ``log_likelihood`` (one entry per observation, for LOO),
``observed_data`` and, on request, ``posterior_predictive``.

The chains run on the engine's chains driver (`bayesreg.engine.chains.sample_chains`: compiled once
per model, settings and data shape, one after another on a CPU, vectorised elsewhere, split across
devices where there are several); the log-likelihood of their draws is one more compiled program.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import jax
import numpy as np
import numpyro.distributions as dist
from numpyro.infer import Predictive, log_likelihood

from bayesreg.engine.arrays import as_arrays, split_static
from bayesreg.engine.chains import Chains, sample_chains, seed_keys
from bayesreg.engine.programs import program

if TYPE_CHECKING:  # arviz is imported where it is used: `import bayesreg` does not load it
    import arviz as az

__all__ = ["sample_posterior"]


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
    num_warmup: int = 1000,
    num_samples: int = 1000,
    num_chains: int = 4,
    seed: int = 0,
    posterior_predictive: bool = False,
    laplace_mixture: bool = False,
    mass_matrix: str = "auto",
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
        Seed of the sampler: the same seed, settings and device count give the same draws.
    posterior_predictive : bool
        Also draw ``y`` from the posterior predictive at the observed ``X``.
    laplace_mixture : bool
        Sample a Laplace prior on ``coef`` through `~bayesreg.engine.LaplaceScaleMixture` (extra
        sites ``coef_std``, ``coef_var``; ``coef`` keeps its name and its posterior).
    mass_matrix : {"auto", "dense", "diagonal"}
        The mass matrix NUTS adapts during warmup. ``"auto"``: dense when the model has at most
        `~bayesreg.engine.DENSE_UP_TO` (20) unconstrained parameters (a dense matrix adapts to correlated
        coefficients, as collinear features make them, and costs little next to the gradient
        there), diagonal otherwise. Kept in ``sample_stats.attrs["mass_matrix"]``.
    progress_bar : bool, optional
        Show the sampling progress on stderr (default: when stderr is a terminal).
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
    return _posterior_started(
        model,
        args,
        observed=observed,
        feature_names=feature_names,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        seed=seed,
        posterior_predictive=posterior_predictive,
        laplace_mixture=laplace_mixture,
        mass_matrix=mass_matrix,
        progress_bar=progress_bar,
        model_kwargs=model_kwargs,
    )()


def _posterior_started(
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
    laplace_mixture,
    mass_matrix,
    progress_bar,
    model_kwargs,
) -> Callable[[], az.InferenceData]:
    """`sample_posterior` in two steps: this call dispatches the chains and their log-likelihood (JAX
    runs them in the background); calling what it returns waits for them and gives the
    InferenceData. Work done between the two steps (the MAP, say) overlaps sampling, as long as it
    does not wait on a result JAX computes after the chains. ArviZ, which the second step needs,
    is imported meanwhile (`_import_in_background`)."""
    _import_in_background("arviz")
    obs_model, X, y = observed if observed is not None else (model, *args)
    if progress_bar is None:
        progress_bar = sys.stderr.isatty()
    with jax.enable_x64(True):
        args, kwargs, X, y = as_arrays((args, model_kwargs, X, y))
        seed = np.asarray(seed, dtype=np.int64)  # the keys come from it inside the programs
        chains = sample_chains(
            model,
            seed,
            args,
            kwargs,
            num_chains=num_chains,
            num_warmup=num_warmup,
            num_samples=num_samples,
            mass_matrix=mass_matrix,
            laplace_mixture=laplace_mixture,
            progress_bar=progress_bar,
        )
        observations = _observe(obs_model, seed, chains, X, y, kwargs, posterior_predictive)

    def finish() -> az.InferenceData:
        return _inference_data(
            chains.wait(), *observations, y, feature_names, X.shape, posterior_predictive, model_kwargs
        )

    return finish


def _observe(model, seed, chains: Chains, X, y, kwargs: dict, predictive: bool):
    """Dispatch the per-observation log-likelihood of the chains' draws (and posterior predictive
    draws of y, if asked) on the first device: the chains may be on several."""
    dynamic, static = split_static(kwargs)
    seed, draws, dynamic = jax.device_put((seed, chains.draws, dynamic), jax.local_devices()[0])
    return _log_likelihood(model, static, seed, draws, X, y, dynamic, predictive=predictive)


def _inference_data(
    chains: Chains, loglik, predicted, y, feature_names, shape, predictive, model_kwargs
) -> az.InferenceData:
    """The InferenceData of computed chains and observations (``shape``: that of X)."""
    import arviz as az  # waits for `_import_in_background` to finish it

    num_chains, num_samples = np.shape(chains.stats["diverging"])
    groups = {
        "posterior": {k: np.asarray(v) for k, v in chains.draws.items()},
        "sample_stats": _sample_stats(chains.stats),
        "log_likelihood": {"y": np.asarray(loglik).reshape(num_chains, num_samples, -1)},
        "observed_data": {"y": np.asarray(y)},
    }
    if predictive:
        groups["posterior_predictive"] = {"y": np.asarray(predicted).reshape(num_chains, num_samples, -1)}
    names = feature_names if feature_names is not None else [f"x{j}" for j in range(shape[1])]
    idata = az.from_dict(
        **groups,
        coords={"feature": [str(n) for n in names], "obs": np.arange(shape[0])},
        dims={"coef": ["feature"], "y": ["obs"]},
    )
    idata.sample_stats.attrs["mass_matrix"] = str(chains.mass_matrix[0])
    sigma = model_kwargs.get("sigma")
    if sigma is not None and not isinstance(sigma, dist.Distribution):
        idata.posterior.attrs["sigma"] = float(sigma)  # a fixed noise sd is not a posterior variable
    return idata


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


def _sample_stats(stats: dict) -> dict:
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
