"""How to infer the whole posterior: NUTS (numpyro) into an ArviZ InferenceData.

`sample_posterior` runs NUTS on a model of `bayesreg.models` and returns one InferenceData with the
groups ``posterior``, ``sample_stats``, ``log_likelihood`` (one entry per observation, for LOO),
``observed_data`` and, on request, ``posterior_predictive``.

The chains run through numpyro's functional NUTS (the steps of `run_chain`) in three jitted
functions: their first state, a stretch of their loop over warmup and draws (called once, or 20
times to show progress on a terminal: `_in_parts`, which `bayesreg.path` uses too), and their
draws. On one device the chains run one after another inside each program on a CPU
(``jax.lax.map``: see `_map_chains`) and vectorised (``jax.vmap``) elsewhere; where there are
several devices, they are split evenly across as many of them as divide the number of chains
(``jax.shard_map``). Each is compiled once per model, settings and data shape, so refitting new
data of the same shape does not recompile (numpyro's ``MCMC`` object re-jits its sampling loop on
every run), and none holds a host callback, so all are kept by the command line's export cache.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import itertools
import math
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from numpyro import handlers
from numpyro.distributions.transforms import biject_to
from numpyro.infer import Predictive, log_likelihood
from numpyro.infer.hmc import HMCState, hmc
from numpyro.infer.hmc_util import HMCAdaptState
from numpyro.infer.initialization import init_to_uniform
from numpyro.infer.reparam import Reparam
from numpyro.infer.util import constrain_fn, potential_energy

from bayesreg.engine.arrays import as_arrays, split_static
from bayesreg.engine.programs import program

if TYPE_CHECKING:  # arviz is imported where it is used: `import bayesreg` does not load it
    import arviz as az

__all__ = ["SMALL_LOOPS_XLA_FLAG", "LaplaceScaleMixture", "run_chain", "sample_posterior"]


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


@functools.cache
def _mixture(model):
    """``model`` with `LaplaceScaleMixture` on ``coef`` (one object per model, so jit caches hit)."""
    return handlers.reparam(model, config={"coef": LaplaceScaleMixture()})


def _show_progress(step: int, total: int) -> None:
    """Overwrite the progress line on stderr: step ``step`` (from 0) of ``total`` is done."""
    percent = int(100 * (step + 1) / total)
    print(f"\rNUTS {percent:3d}%", end="\n" if percent >= 100 else "", file=sys.stderr, flush=True)


def _kept(state):
    """What a chain keeps of a transition: the unconstrained position and the sample statistics."""
    return state.z, {
        "diverging": state.diverging,
        "energy": state.energy,
        "num_steps": state.num_steps,
        "accept_prob": state.accept_prob,
        "potential_energy": state.potential_energy,
        "step_size": state.adapt_state.step_size,
    }


MASS_MATRICES = ("auto", "dense", "diagonal")
DENSE_UP_TO = 20
"""With ``mass_matrix="auto"``, the chains adapt a dense mass matrix when the model has at most this
many unconstrained parameters, and a diagonal one otherwise (benchmarks/README.md, session 4)."""


SMALL_LOOPS_XLA_FLAG = "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=1048576"
"""An ``XLA_FLAGS`` entry that makes the chains several times faster on a CPU.

XLA:CPU runs a program as a sequence of kernels, a few dozen per NUTS leapfrog step, and for a small
model their dispatch costs more than their arithmetic. It compiles a while loop into a single kernel
instead when the loop has no dot, scatter or custom call and reads and writes less than a threshold
per iteration: 1 KiB by default, which no NUTS loop meets; this entry raises it to 1 MiB. Unbatched
(`_map_chains`), the tree-building loop of the diabetes lasso, of a logistic regression on 442 rows
and of a 100-feature linear regression from its sufficient statistics all qualify; their chains
then run 2–6 times faster (benchmarks/README.md). It changes how the loops are compiled, not what
they compute.

The ``bayesreg`` command sets it for its own process. XLA reads ``XLA_FLAGS`` once, when JAX first
computes something, so a script sets it before that::

    import os
    from bayesreg.sampling import SMALL_LOOPS_XLA_FLAG
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {SMALL_LOOPS_XLA_FLAG}"
"""


def _check_mass_matrix(mass_matrix) -> str:
    if mass_matrix not in MASS_MATRICES:
        raise ValueError(f"unknown mass_matrix {mass_matrix!r}; expected one of {', '.join(MASS_MATRICES)}")
    return mass_matrix


def _nuts(model, args, kwargs, z, mass_matrix: str):
    """numpyro's NUTS kernels on the potential of ``model``; the initial kernel sets up a dense mass
    matrix for ``mass_matrix="dense"``, or "auto" with at most `DENSE_UP_TO` entries in the position
    ``z``, and a diagonal one otherwise."""
    size = sum(math.prod(jnp.shape(v)) for v in jax.tree.leaves(z))
    dense = mass_matrix == "dense" or (mass_matrix == "auto" and size <= DENSE_UP_TO)
    init_kernel, sample_kernel = hmc(lambda z: potential_energy(model, args, kwargs, z), algo="NUTS")
    return functools.partial(init_kernel, dense_mass=dense), sample_kernel


def _chain_start(model, key, args, kwargs, *, num_warmup: int, num_samples: int, mass_matrix: str):
    """A chain's first NUTS state, started uniformly in (-2, 2) on the unconstrained space (as
    numpyro's ``MCMC`` does), and the empty rows (``num_samples`` of them) its kept transitions fill."""
    key_init, key_run = jax.random.split(key)
    start = handlers.substitute(handlers.seed(model, key_init), substitute_fn=init_to_uniform)
    trace = handlers.trace(start).get_trace(*args, **kwargs)
    z0 = {
        name: biject_to(site["fn"].support).inv(site["value"])
        for name, site in trace.items()
        if site["type"] == "sample" and not site["is_observed"]
    }
    init_kernel, _ = _nuts(model, args, kwargs, z0, mass_matrix)
    state = init_kernel(z0, num_warmup, rng_key=key_run)
    rows = jax.tree.map(lambda v: jnp.zeros((num_samples, *jnp.shape(v)), jnp.result_type(v)), _kept(state))
    return state, rows


def _chain_advance(model, carry, args, kwargs, begin, end, *, num_warmup: int, thin: int, mass_matrix: str):
    """Steps ``begin`` to ``end − 1`` of a chain's one loop over warmup and draws, from ``carry``
    (the state and rows of `_chain_start` or of the steps before).

    Step i writes row (i − num_warmup) // thin, so the last write to a row is its kept draw (warmup
    steps write row 0 until the first draw overwrites it).
    """
    init_kernel, sample_kernel = _nuts(model, args, kwargs, carry[0].z, mass_matrix)
    # numpyro's hmc shares its settings between the two kernels through init_kernel: calling it sets
    # them up for sample_kernel (the values it computes are unused, and compiled away)
    init_kernel(carry[0].z, num_warmup, rng_key=carry[0].rng_key)

    def step(i, carry):
        state, rows = carry
        state = sample_kernel(state)
        row = jnp.maximum(i - num_warmup, 0) // thin
        rows = jax.tree.map(lambda buffer, value: buffer.at[row].set(value), rows, _kept(state))
        return state, rows

    return jax.lax.fori_loop(begin, end, step, carry)


def _chain_draws(model, rows, args, kwargs):
    """The kept rows as draws (constrained values of the sample and deterministic sites) and stats."""
    zs, stats = rows
    return jax.vmap(lambda z: constrain_fn(model, args, kwargs, z, return_deterministic=True))(zs), stats


def run_chain(
    model,
    key,
    args,
    kwargs,
    *,
    num_warmup: int,
    num_samples: int,
    thin: int = 1,
    mass_matrix: str = "auto",
):
    """One NUTS chain on ``model(*args, **kwargs)`` with numpyro's functional API (pure: jit/vmap-able).

    Starts uniformly in (-2, 2) on the unconstrained space (as numpyro's ``MCMC`` does), adapts the
    step size and the mass matrix during ``num_warmup`` steps, then keeps every ``thin``-th of
    ``num_samples × thin`` steps. ``mass_matrix`` is "dense", "diagonal", or "auto": dense when the
    model has at most `DENSE_UP_TO` unconstrained parameters.

    Returns
    -------
    draws : dict of str to array, each of shape (num_samples, *site_shape)
        Constrained values of the sample and deterministic sites.
    stats : dict of str to array, each of shape (num_samples,)
        ``diverging``, ``energy``, ``num_steps``, ``accept_prob``, ``potential_energy``,
        ``step_size`` of the kept transitions.
    """
    settings = {"num_warmup": num_warmup, "mass_matrix": _check_mass_matrix(mass_matrix)}
    carry = _chain_start(model, key, args, kwargs, num_samples=num_samples, **settings)
    total = num_warmup + num_samples * thin
    _, rows = _chain_advance(model, carry, args, kwargs, 0, total, thin=thin, **settings)
    return _chain_draws(model, rows, args, kwargs)


def _devices_for(num_chains: int) -> int:
    """How many local devices the chains run on: the most, up to all of them, that split the chains
    evenly (1 on a single device)."""
    most = min(jax.local_device_count(), num_chains)
    return max(d for d in range(1, most + 1) if num_chains % d == 0)


@functools.cache
def _chain_mesh(devices: int) -> Mesh:
    """The first ``devices`` local devices along one mesh axis, ``"chain"``."""
    return Mesh(np.asarray(jax.local_devices()[:devices]), ("chain",))


def _chains_in_sequence() -> bool:
    """Whether `_map_chains` runs a device's chains one after another (on a CPU) or vectorised."""
    return jax.default_backend() == "cpu"


def _map_chains(fn, devices: int, chain_axes: tuple):
    """``fn`` for every chain, over the arguments whose axis in ``chain_axes`` is 0 (the others are
    shared), and with ``devices > 1`` split across that many devices (``jax.shard_map``; no
    collectives: each device's while loops run to their own chains' ends).

    On a CPU the chains of a device run one after another (``jax.lax.map``) inside the one program:
    unbatched, NUTS's tree-building loop has no scatter and no batched dot, so XLA:CPU can compile it
    into a single kernel (`SMALL_LOOPS_XLA_FLAG`), which runs the diabetes lasso's 4 chains in about
    0.35 s instead of 1.6–2.4 s vectorised. Elsewhere they are vectorised (``jax.vmap``)."""
    if _chains_in_sequence():

        def mapped(*args):
            per_chain = [arg if axis == 0 else None for arg, axis in zip(args, chain_axes, strict=True)]

            def one(mine):
                chain = zip(mine, args, chain_axes, strict=True)
                return fn(*(m if axis == 0 else arg for m, arg, axis in chain))

            return jax.lax.map(one, per_chain)

    else:
        mapped = jax.vmap(fn, in_axes=chain_axes)
    if devices == 1:
        return mapped
    specs = tuple(P("chain") if axis == 0 else P() for axis in chain_axes)
    return jax.shard_map(
        mapped, mesh=_chain_mesh(devices), in_specs=specs, out_specs=P("chain"), check_vma=False
    )


# `sample_posterior` runs the chains in parts: a first state, then calls of one program that each run
# a stretch of the loop over warmup and draws, then the draws. On a terminal a thread prints the
# progress as each call ends, so no program holds a host callback and all three can be exported;
# without a progress bar the loop is one call, with the same draws, bitwise. The state holds two of numpyro's
# named tuples, which jax.export serializes once they are registered.
for _named in (HMCState, HMCAdaptState):
    with contextlib.suppress(ValueError):  # registered already (by numpyro, or a reload)
        jax.export.register_namedtuple_serialization(_named, serialized_name=f"numpyro.{_named.__name__}")


def _seed_keys(seed):
    """The key of the chains and the key of the posterior predictive draws, from ``seed``."""
    return jax.random.split(jax.random.PRNGKey(seed))


_CHAINS = ("model", "static", "laplace_mixture", "num_warmup", "mass_matrix", "devices")


@program("nuts-start", static_argnames=(*_CHAINS, "num_samples", "num_chains"), fast_compile=True)
def _start_chains(
    model,
    static,
    seed,
    args,
    kwargs,
    *,
    num_warmup,
    num_samples,
    num_chains,
    mass_matrix,
    devices,
    laplace_mixture=False,
):
    """The chains' first states, compiled with the quick compiler options (on a CPU): the first
    state takes milliseconds to compute once per fit, so its compilation is what counts (diabetes
    lasso: 1.7 s at XLA's default options; the chains' loop keeps them)."""
    keys = jax.random.split(_seed_keys(seed)[0], num_chains)
    sampler = _mixture(model) if laplace_mixture else model
    start = functools.partial(
        _chain_start,
        functools.partial(sampler, **dict(static)),
        num_warmup=num_warmup,
        num_samples=num_samples,
        mass_matrix=mass_matrix,
    )
    return _map_chains(start, devices, (0, None, None))(keys, args, kwargs)


@program("nuts-advance", static_argnames=_CHAINS)
def _advance_chains(
    model, static, carry, args, kwargs, begin, end, *, num_warmup, mass_matrix, devices, laplace_mixture=False
):
    sampler = _mixture(model) if laplace_mixture else model
    advance = functools.partial(
        _chain_advance,
        functools.partial(sampler, **dict(static)),
        num_warmup=num_warmup,
        thin=1,
        mass_matrix=mass_matrix,
    )
    return _map_chains(advance, devices, (0, None, None, None, None))(carry, args, kwargs, begin, end)


@program("nuts-draws", static_argnames=("model", "static", "laplace_mixture", "devices"))
def _draws_of_chains(model, static, rows, args, kwargs, *, devices, laplace_mixture=False):
    sampler = _mixture(model) if laplace_mixture else model
    draws = functools.partial(_chain_draws, functools.partial(sampler, **dict(static)))
    return _map_chains(draws, devices, (0, None, None))(rows, args, kwargs)


def _sample_in_parts(model, static, seed, args, kwargs, *, num_samples, num_chains, parts, **settings):
    """Run the chains as `_start_chains`, ``parts`` calls of `_advance_chains` and
    `_draws_of_chains` (``settings``: their other static arguments). Returns the draws and stats
    (possibly still being computed: JAX dispatches asynchronously), the mass matrix the chains
    adapted ("dense" or "diagonal") and, with more than one part, the `_reporting` thread that
    prints the progress on stderr as each part ends (else None)."""
    total = settings["num_warmup"] + num_samples
    chains = {"num_samples": num_samples, "num_chains": num_chains}
    carry = _start_chains(model, static, seed, args, kwargs, **chains, **settings)
    shared = NamedSharding(_chain_mesh(settings["devices"]), P()) if settings["devices"] > 1 else None

    def advance(carry, begin, end):
        return _advance_chains(model, static, carry, args, kwargs, begin, end, **settings)

    carry, progress = _in_parts(advance, carry, total, parts, shared)
    draws, stats = _draws_of_chains(
        model,
        static,
        carry[1],
        args,
        kwargs,
        laplace_mixture=settings["laplace_mixture"],
        devices=settings["devices"],
    )
    # (chain, d, d) for a dense matrix, (chain, d) for a diagonal one
    adapted = "dense" if jnp.ndim(carry[0].adapt_state.inverse_mass_matrix) == 3 else "diagonal"
    return draws, stats, adapted, progress


def _in_parts(advance, carry, total: int, parts: int, sharding=None):
    """``carry = advance(carry, begin, end)`` over steps 0 to ``total`` in ``parts`` calls (the bounds
    are int32 arrays, so one program serves every call). JAX dispatches the calls asynchronously:
    returns the last carry at once and, with more than one part, the started `_reporting` thread
    that prints the progress on stderr as each call ends (else None).

    The bounds are committed to ``sharding`` (chains on several devices) or left uncommitted (one
    device): committed bounds would commit the carry a call returns, and a call with a committed
    carry after one with an uncommitted carry (from the first state) is another program to jit."""
    ends = np.linspace(0, total, parts + 1).round().astype(np.int32)
    reached = []  # (step counter after a part, its last step): what the progress thread waits on
    for begin, end in itertools.pairwise(ends):
        carry = advance(carry, *jax.device_put((np.int32(begin), np.int32(end)), sharding))
        reached.append((carry[0].i, int(end) - 1))
    return carry, (_reporting(reached, total) if parts > 1 else None)


def _reporting(reached, total) -> threading.Thread:
    """A started thread that prints the progress as each part of the chains ends.

    The parts are all dispatched (JAX runs them asynchronously, one after another), so the caller
    goes on (importing ArviZ, say) while they run; waiting on a result releases the GIL. Join the
    thread before printing anything else to stderr."""

    def report():
        for counter, step in reached:
            try:
                jax.block_until_ready(counter)
            except Exception:  # a failed part: the caller gets the error from the draws
                return
            _show_progress(step, total)

    thread = threading.Thread(target=report, name="bayesreg-progress", daemon=True)
    thread.start()
    return thread


@program("loglik", static_argnames=("model", "static", "predictive"))
def _log_likelihood(model, static, seed, draws, X, y, kwargs, *, predictive):
    """Per-observation log-likelihood at every draw (``draws`` shaped (chain, draw, ...), taken
    chain after chain) and, if asked, posterior predictive draws of y."""
    model = functools.partial(model, **dict(static))
    draws = {k: v.reshape((-1, *v.shape[2:])) for k, v in draws.items()}
    key = _seed_keys(seed)[1]
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
        Sample a Laplace prior on ``coef`` through `LaplaceScaleMixture` (extra sites ``coef_std``,
        ``coef_var``; ``coef`` keeps its name and its posterior).
    mass_matrix : {"auto", "dense", "diagonal"}
        The mass matrix NUTS adapts during warmup. ``"auto"``: dense when the model has at most
        `DENSE_UP_TO` (20) unconstrained parameters (a dense matrix adapts to correlated
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
    dynamic, static = split_static(model_kwargs)
    if progress_bar is None:
        progress_bar = sys.stderr.isatty()
    devices = _devices_for(num_chains)
    with jax.enable_x64(True):
        args, dynamic, X, y = as_arrays((args, dynamic, X, y))
        seed = np.asarray(seed, dtype=np.int64)  # the keys come from it inside the programs
        if devices > 1:  # committed to the mesh: an exported multi-device program needs that
            mesh = _chain_mesh(devices)
            seed, args, dynamic = jax.device_put((seed, args, dynamic), NamedSharding(mesh, P()))
        draws, stats, adapted, progress = _sample_in_parts(
            model,
            static,
            seed,
            args,
            dynamic,
            laplace_mixture=bool(laplace_mixture),
            num_warmup=num_warmup,
            num_samples=num_samples,
            num_chains=num_chains,
            mass_matrix=_check_mass_matrix(mass_matrix),
            devices=devices,
            parts=20 if progress_bar else 1,
        )
        # back on one device, with the data (the log-likelihood program is a single-device one)
        seed, draws, dynamic = jax.device_put((seed, draws, dynamic), jax.local_devices()[0])
        loglik, predicted = _log_likelihood(
            obs_model, static, seed, draws, X, y, dynamic, predictive=posterior_predictive
        )

    def finish() -> az.InferenceData:
        import arviz as az  # waits for `_import_in_background` to finish it

        if progress is not None:
            progress.join()
        groups = {
            "posterior": {k: np.asarray(v) for k, v in draws.items()},
            "sample_stats": _sample_stats(stats),
            "log_likelihood": {"y": np.asarray(loglik).reshape(num_chains, num_samples, -1)},
            "observed_data": {"y": np.asarray(y)},
        }
        if posterior_predictive:
            groups["posterior_predictive"] = {"y": np.asarray(predicted).reshape(num_chains, num_samples, -1)}
        names = feature_names if feature_names is not None else [f"x{j}" for j in range(X.shape[1])]
        idata = az.from_dict(
            **groups,
            coords={"feature": [str(n) for n in names], "obs": np.arange(X.shape[0])},
            dims={"coef": ["feature"], "y": ["obs"]},
        )
        idata.sample_stats.attrs["mass_matrix"] = adapted
        sigma = model_kwargs.get("sigma")
        if sigma is not None and not isinstance(sigma, dist.Distribution):
            idata.posterior.attrs["sigma"] = float(sigma)  # a fixed noise sd is not a posterior variable
        return idata

    return finish


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
