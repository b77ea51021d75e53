"""NUTS chains: one driver for a posterior, a grid of priors and a batch of simulated data sets.

`sample_chains` runs numpyro's functional NUTS (`numpyro.infer.hmc.hmc`) on many chains of one model
in three compiled programs (`bayesreg.engine.programs`): `start_chains` (their first states),
`advance_chains` (a stretch of their one loop over warmup and draws: called once, or 20 times to
print the progress on a terminal, with the same draws bitwise) and `chain_draws` (the kept states as
constrained draws). The model's arguments come in two kinds: shared by every chain (the data, the
noise prior), and per chain (a pytree whose leaves have a leading chain axis): a grid of penalty
strengths is chains with a prior per chain, simulation-based calibration is chains with a data
set per chain, a posterior is chains with nothing of their own.

How the chains are mapped (`map_chains`): on a CPU one after another inside each program
(``jax.lax.map``), so that XLA:CPU compiles each chain's NUTS loop into one kernel under
`SMALL_LOOPS_XLA_FLAG`; elsewhere vectorised (``jax.vmap``); where there are several devices,
split evenly across as many of them as divide the number of chains (``jax.shard_map``). Each program
is compiled once per model, settings and argument shapes: new data, new priors or a new seed of the
same shapes reuse it (numpyro's ``MCMC`` object re-jits its sampling loop on every run), and none
holds a host callback, so the command line's export cache keeps all three.

A Laplace prior on ``coef`` has a kink at 0 where NUTS may diverge; `LaplaceScaleMixture` samples
it as a normal–exponential scale mixture instead (``laplace_mixture=True``), and
`fall_back_to_mixture` runs chains again that way where the direct density diverged.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import sys
import threading
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax.flatten_util import ravel_pytree
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from numpyro import handlers
from numpyro.distributions.transforms import biject_to
from numpyro.infer.hmc import HMCState, hmc
from numpyro.infer.hmc_util import HMCAdaptState
from numpyro.infer.initialization import init_to_uniform
from numpyro.infer.reparam import Reparam
from numpyro.infer.util import constrain_fn, potential_energy

from bayesreg.defaults import MASS_MATRIX, MAX_TREE_DEPTH, TARGET_ACCEPT
from bayesreg.engine.arrays import split_static
from bayesreg.engine.programs import program
from bayesreg.params import check_params

__all__ = [
    # the driver
    "Chains",
    "sample_chains",
    "run_chain",
    # the Laplace prior as a scale mixture, and the fallback to it
    "LaplaceScaleMixture",
    "fall_back_to_mixture",
    "scale_mixture",
    # settings
    "CURVATURE_CONDITION_MAX",
    "DENSE_DATA_FRACTION",
    "DENSE_UP_TO",
    "SMALL_LOOPS_XLA_FLAG",
    "dense_mass",
    # how chains are mapped and keyed
    "chains_in_sequence",
    "devices_for",
    "map_chains",
    "seed_keys",
    # the compiled programs
    "advance_chains",
    "chain_draws",
    "start_chains",
]


class LaplaceScaleMixture(Reparam):
    """Non-centred normal–exponential scale mixture for a Laplace site.

    ``w ~ Laplace(μ, b)`` is sampled as ``w = μ + z·√v`` with ``z ~ N(0, 1)`` (site ``{name}_std``)
    and ``v ~ Exponential(rate = 1/(2b²))`` (site ``{name}_var``): the same marginal law
    (Andrews & Mallows 1974; Park & Casella 2008) without the kink at ``μ`` that makes NUTS
    diverge. Sites with another distribution pass through unchanged.

    Examples
    --------
    A Laplace(0, 0.5) site becomes two sample sites and the value they give (the variance's rate
    is ``1/(2b²) = 2``):

    >>> import numpy as np, numpyro, numpyro.distributions as dist
    >>> from numpyro import handlers
    >>> from bayesreg.engine.chains import LaplaceScaleMixture
    >>> def model():
    ...     numpyro.sample("w", dist.Laplace(0.0, 0.5))
    >>> mixed = handlers.reparam(model, config={"w": LaplaceScaleMixture()})
    >>> trace = handlers.trace(handlers.seed(mixed, 0)).get_trace()
    >>> [(name, site["type"]) for name, site in trace.items()], float(trace["w_var"]["fn"].rate)
    ([('w_var', 'sample'), ('w_std', 'sample'), ('w', 'deterministic')], 2.0)
    >>> bool(np.isclose(trace["w"]["value"], trace["w_std"]["value"] * np.sqrt(trace["w_var"]["value"])))
    True
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
def scale_mixture(model: Callable) -> Callable:
    """``model`` with `LaplaceScaleMixture` on ``coef`` (one object per model, so jit caches hit).

    Examples
    --------
    >>> import numpy as np
    >>> from numpyro import handlers
    >>> from bayesreg.engine.chains import scale_mixture
    >>> from bayesreg.models import linear_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> X, laplace = np.eye(2), prior_from_penalty("laplace", 1.0, convention="book")
    >>> trace = handlers.trace(handlers.seed(scale_mixture(linear_regression), 0)).get_trace(
    ...     X, prior=laplace, fit_intercept=False)
    >>> list(trace), scale_mixture(linear_regression) is scale_mixture(linear_regression)
    (['coef_var', 'coef_std', 'coef', 'obs', 'y'], True)
    """
    return handlers.reparam(model, config={"coef": LaplaceScaleMixture()})


DENSE_UP_TO = 20
"""With ``mass_matrix="auto"``, the chains adapt a dense mass matrix when the model has at most this
many unconstrained parameters, whatever its data (`dense_mass`). A dense matrix gave 1.65–2.6 times the
bulk ESS per second of a diagonal one on the diabetes lasso and a 10-feature logistic regression; on
the linear model from its sufficient statistics, whose gradient costs O(p²) as the dense matrix does,
0.83 times at 25 features down to 0.3 at 100 (benchmarks/README.md)."""


DENSE_DATA_FRACTION = 0.1
"""With ``mass_matrix="auto"``, the chains also adapt a dense mass matrix when the square of the
number ``d`` of unconstrained parameters is at most this fraction of the number of data elements the
model reads (`dense_mass`).

For a model evaluated per row (logistic regression, the linear model from its rows) the gradient
reads n·p elements, so the rule is dense for up to about n/10 parameters; for the linear model from
its sufficient statistics (p² + 3p + 3 elements, d = p + 2) or its collapsed form d² exceeds the
elements, and the size rule `DENSE_UP_TO` alone decides. Measured on a logistic regression with
AR(1) columns (ρ = 0.5, n = 1000; benchmarks/README.md, "Dense or diagonal by cost"): a dense matrix
gave 2.7 times the bulk ESS per second of a diagonal one at p = 20 (d²/elements = 0.021), 0.86 times
at p = 50 (0.051), 0.58 at p = 100 (0.101), 0.28 at p = 200 (0.201): each dense leapfrog step cost
1.8, 4.5 and 6.8 times a diagonal one there, far more than its d² multiply-adds. On columns that
are nearly collinear a diagonal matrix fails outright: star98 with a binary target (d = 22, 0.073)
ended at R-hat 2.5–2.9 and bulk ESS 5–6, and sampled with a dense one (R-hat ≤ 1.01, ESS > 1,000);
the raw breast-cancer columns (d = 31, 0.054) sampled 4.5 times faster with it. The cut at 0.1 takes
those, and costs at most about half the ESS per second on mildly correlated columns."""


def dense_mass(mass_matrix: str, num_parameters: int, data_size: int) -> bool:
    """Whether the chains adapt a dense mass matrix for the setting ``mass_matrix``.

    "dense" and "diagonal" say so; "auto" is dense when ``num_parameters`` (the unconstrained
    parameters, d) is at most `DENSE_UP_TO`, or when d² is at most `DENSE_DATA_FRACTION` times
    ``data_size`` (the number of elements of the arrays the model reads: its arguments and
    keywords), where a dense matrix costs little next to the gradient: a model evaluated per row
    with at most about n/10 parameters.

    Parameters
    ----------
    mass_matrix : {"auto", "dense", "diagonal"}
    num_parameters : int
        Unconstrained parameters of the model.
    data_size : int
        Elements of the model's array arguments and keywords (data, sufficient statistics, prior
        parameters).

    Returns
    -------
    bool

    Examples
    --------
    A logistic regression on 569 rows and 30 columns (31 parameters with the intercept; X and y have
    569 · 31 elements) against the linear model from the sufficient statistics of 30 columns (32
    parameters with the intercept and σ; p² + 3p + 3 elements):

    >>> from bayesreg.engine.chains import dense_mass
    >>> dense_mass("auto", 31, 569 * 31), dense_mass("auto", 32, 30 * 30 + 3 * 30 + 3)
    (True, False)
    >>> dense_mass("auto", 20, 0), dense_mass("diagonal", 3, 10**6), dense_mass("dense", 500, 1)
    (True, False, True)
    """
    if mass_matrix != "auto":
        return mass_matrix == "dense"
    return num_parameters <= DENSE_UP_TO or num_parameters**2 <= DENSE_DATA_FRACTION * data_size


CURVATURE_CONDITION_MAX = 1e8
"""Chains started from a mode use the Laplace approximation there (start and initial inverse mass
matrix) only when the Hessian of the potential, scaled to a unit diagonal, has eigenvalues within
this ratio (standard deviations within 1e4 of each other along its eigenvectors); otherwise they
start as without a mode. On statsmodels' star98 with a binary target (logistic, Laplace prior, C =
1; 303 rows, columns that are products of others, a nearly separable MAP) the ratio was 5e10: chains
drawn from that approximation ended at R-hat 3.87 with 99.9 % of draws at the maximum tree depth,
and from numpyro's uniform start at R-hat 1.008, bulk ESS 1,094 (benchmarks/README.md)."""


SMALL_LOOPS_XLA_FLAG = "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=1048576"
"""An ``XLA_FLAGS`` entry that makes the chains several times faster on a CPU.

XLA:CPU runs a program as a sequence of kernels, a few dozen per NUTS leapfrog step, and for a small
model their dispatch costs more than their arithmetic. It compiles a while loop into a single kernel
instead when the loop has no dot, scatter or custom call and reads and writes less than a threshold
per iteration: 1 KiB by default, which no NUTS loop meets; this entry raises it to 1 MiB. Unbatched
(`map_chains`), the tree-building loop of the diabetes lasso, of a logistic regression on 442 rows
and of a 100-feature linear regression from its sufficient statistics all qualify; their chains
then run 2–6 times faster (benchmarks/README.md). It changes how the loops are compiled, not what
they compute.

The ``bayesreg`` command sets it for its own process. XLA reads ``XLA_FLAGS`` once, when JAX first
computes something, so a script sets it before that::

    import os
    from bayesreg.engine import SMALL_LOOPS_XLA_FLAG
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {SMALL_LOOPS_XLA_FLAG}"
"""


# ---------------------------------------------------------------------------------------------------
# one chain


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


def _nuts(model, args, kwargs, z, *, mass_matrix: str, target_accept: float, max_tree_depth: int):
    """numpyro's NUTS kernels on the potential of ``model``; the initial kernel sets up a dense mass
    matrix where `dense_mass` says so for ``mass_matrix``, the size of the position ``z`` and of
    the arrays in ``args`` and ``kwargs`` (their shapes are known while tracing), and a diagonal one
    otherwise, the step size's target acceptance probability and the most doublings of a
    trajectory."""
    size = sum(math.prod(jnp.shape(v)) for v in jax.tree.leaves(z))
    data = sum(math.prod(jnp.shape(v)) for v in jax.tree.leaves((args, kwargs)))
    dense = dense_mass(mass_matrix, size, data)
    init_kernel, sample_kernel = hmc(lambda z: potential_energy(model, args, kwargs, z), algo="NUTS")
    settings = {"dense_mass": dense, "target_accept_prob": target_accept, "max_tree_depth": max_tree_depth}
    return functools.partial(init_kernel, **settings), sample_kernel


def _curvature_start(model, args, kwargs, mode, key, dense: bool, fallback):
    """A start drawn from the Laplace approximation at ``mode`` (an unconstrained position, the MAP)
    and that approximation's covariance as the inverse mass matrix (dense, or its diagonal).

    The covariance is the inverse Hessian of the potential at ``mode``: a Laplace prior's kink adds
    no curvature there (JAX differentiates ``|w|`` to a zero second derivative), so along a weight
    at an exact zero the likelihood's curvature stands in. The Hessian is inverted scaled to a unit
    diagonal (``H = S H̃ S``), whose eigenvalues do not depend on the parameters' units. Where that
    approximation says little (a Hessian with a non-finite entry, or eigenvalues of ``H̃`` spanning
    more than `CURVATURE_CONDITION_MAX`: a direction the data barely constrain, along which the
    draw would land far out) the start is ``fallback`` (numpyro's uniform start) with an identity
    matrix."""
    flat, unravel = ravel_pytree(mode)
    hessian = jax.hessian(lambda x: potential_energy(model, args, kwargs, unravel(x)))(flat)
    hessian = 0.5 * (hessian + hessian.T)
    diagonal = jnp.diagonal(hessian)
    scale = jnp.sqrt(jnp.where(diagonal > 0, diagonal, 1.0))
    values, vectors = jnp.linalg.eigh(hessian / jnp.outer(scale, scale))
    usable = jnp.all(jnp.isfinite(hessian)) & (values[0] * CURVATURE_CONDITION_MAX > values[-1])
    values = jnp.where(usable, values, 1.0)
    scale = jnp.where(usable, scale, 1.0)
    vectors = jnp.where(usable, vectors, jnp.eye(flat.size, dtype=flat.dtype))
    root = vectors / jnp.sqrt(values) / scale[:, None]  # covariance = root @ root.T
    noise = jax.random.normal(key, flat.shape, flat.dtype)
    drawn = unravel(flat + root @ noise)
    z0 = jax.tree.map(lambda a, b: jnp.where(usable, a, b), drawn, fallback)
    covariance = root @ root.T
    return z0, covariance if dense else jnp.diagonal(covariance)


def _chain_start(model, key, args, kwargs, mode=None, *, num_warmup: int, num_samples: int, **nuts):
    """A chain's first NUTS state and the empty rows (``num_samples`` of them) its kept transitions
    fill. Without ``mode`` the chain starts uniformly in (-2, 2) on the unconstrained space (as
    numpyro's ``MCMC`` does) with an identity mass matrix; with ``mode`` (an unconstrained position:
    the MAP) at a draw from the Laplace approximation there, whose covariance is the initial inverse
    mass matrix, where that approximation is well-conditioned (`_curvature_start`)."""
    key_init, key_run = jax.random.split(key)
    start = handlers.substitute(handlers.seed(model, key_init), substitute_fn=init_to_uniform)
    trace = handlers.trace(start).get_trace(*args, **kwargs)
    z0 = {
        name: biject_to(site["fn"].support).inv(site["value"])
        for name, site in trace.items()
        if site["type"] == "sample" and not site["is_observed"]
    }
    init_kernel, _ = _nuts(model, args, kwargs, z0, **nuts)
    inverse_mass_matrix = None
    if mode is not None:
        dense = init_kernel.keywords["dense_mass"]
        z0, inverse_mass_matrix = _curvature_start(model, args, kwargs, mode, key_init, dense, z0)
    state = init_kernel(z0, num_warmup, inverse_mass_matrix=inverse_mass_matrix, rng_key=key_run)
    rows = jax.tree.map(lambda v: jnp.zeros((num_samples, *jnp.shape(v)), jnp.result_type(v)), _kept(state))
    return state, rows


def _chain_advance(model, carry, args, kwargs, begin, end, *, num_warmup: int, thin: int, **nuts):
    """Steps ``begin`` to ``end − 1`` of a chain's one loop over warmup and draws, from ``carry``
    (the state and rows of `_chain_start` or of the steps before).

    Step i writes row (i − num_warmup) // thin, so the last write to a row is its kept draw (warmup
    steps write row 0 until the first draw overwrites it).
    """
    init_kernel, sample_kernel = _nuts(model, args, kwargs, carry[0].z, **nuts)
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


def _chain_draws(model, carry, args, kwargs):
    """The kept rows of ``carry`` (a chain's last state and rows) as draws and stats.

    A draw is the constrained values of the sample and deterministic sites at a kept position, the
    model run under a ``seed`` handler with a key of its own, split from the key the chain's last
    state holds: a model that draws sites given the sampled ones (`numpyro.prng_key`, as
    `~bayesreg.models.linear_regression_collapsed` draws the coefficients) gives the same draws for
    the same seed, and the others ignore the key."""
    state, (zs, stats) = carry
    keys = jax.random.split(state.rng_key, jax.tree.leaves(zs)[0].shape[0])

    def draw(z, key):
        return constrain_fn(handlers.seed(model, key), args, kwargs, z, return_deterministic=True)

    return jax.vmap(draw)(zs, keys), stats


def run_chain(
    model,
    key,
    args,
    kwargs,
    *,
    num_warmup: int,
    num_samples: int,
    thin: int = 1,
    mass_matrix: str = MASS_MATRIX,
    target_accept: float = TARGET_ACCEPT,
    max_tree_depth: int = MAX_TREE_DEPTH,
):
    """One NUTS chain on ``model(*args, **kwargs)`` with numpyro's functional API (pure: jit/vmap-able).

    Starts uniformly in (-2, 2) on the unconstrained space (as numpyro's ``MCMC`` does), adapts the
    step size and the mass matrix during ``num_warmup`` steps, then keeps every ``thin``-th of
    ``num_samples × thin`` steps. ``mass_matrix`` is "dense", "diagonal", or "auto": dense where
    `dense_mass` says so (few parameters, or a dense matrix cheap next to the gradient). The step
    size adapts to a mean acceptance probability ``target_accept``, and a trajectory doubles at most
    ``max_tree_depth`` times.

    Returns
    -------
    draws : dict of str to array, each of shape (num_samples, *site_shape)
        Constrained values of the sample and deterministic sites.
    stats : dict of str to array, each of shape (num_samples,)
        ``diverging``, ``energy``, ``num_steps``, ``accept_prob``, ``potential_energy``,
        ``step_size`` of the kept transitions.

    Examples
    --------
    A pure function of the key: vectorised over four keys, it gives four chains' draws (shapes
    shown without running them, by ``jax.eval_shape``; `sample_chains` runs chains in programs
    compiled once):

    >>> import jax, numpy as np
    >>> from bayesreg.engine.chains import run_chain
    >>> from bayesreg.models import linear_regression
    >>> X, y = np.ones((30, 2)), np.ones(30)
    >>> def chain(key):
    ...     return run_chain(linear_regression, key, (X, y), {"prior": None}, num_warmup=50, num_samples=50)
    >>> draws, stats = jax.eval_shape(jax.vmap(chain), jax.random.split(jax.random.PRNGKey(0), 4))
    >>> draws["coef"].shape, draws["intercept"].shape, stats["diverging"].shape
    ((4, 50, 2), (4, 50), (4, 50))
    """
    nuts = {"mass_matrix": mass_matrix, "target_accept": target_accept, "max_tree_depth": max_tree_depth}
    settings = {"num_warmup": num_warmup, **check_params(nuts)}
    carry = _chain_start(model, key, args, kwargs, num_samples=num_samples, **settings)
    total = num_warmup + num_samples * thin
    carry = _chain_advance(model, carry, args, kwargs, 0, total, thin=thin, **settings)
    return _chain_draws(model, carry, args, kwargs)


# ---------------------------------------------------------------------------------------------------
# many chains


def devices_for(num_chains: int) -> int:
    """How many local devices ``num_chains`` chains run on: the most, up to all of them, that split
    the chains evenly (1 on a single device).

    Examples
    --------
    >>> import jax
    >>> from bayesreg.engine.chains import devices_for
    >>> devices_for(1), 4 % devices_for(4) == 0, devices_for(4) <= jax.local_device_count()
    (1, True, True)
    """
    most = min(jax.local_device_count(), num_chains)
    return max(d for d in range(1, most + 1) if num_chains % d == 0)


@functools.cache
def _chain_mesh(devices: int) -> Mesh:
    """The first ``devices`` local devices along one mesh axis, ``"chain"``."""
    return Mesh(np.asarray(jax.local_devices()[:devices]), ("chain",))


def chains_in_sequence() -> bool:
    """Whether `map_chains` runs a device's chains one after another (on a CPU) or vectorised.

    Examples
    --------
    >>> import jax
    >>> from bayesreg.engine.chains import chains_in_sequence
    >>> chains_in_sequence() == (jax.default_backend() == "cpu")
    True
    """
    return jax.default_backend() == "cpu"


def map_chains(fn: Callable, devices: int, chain_axes: tuple) -> Callable:
    """``fn`` for every chain, over the arguments whose axis in ``chain_axes`` is 0 (the others, with
    None, are shared), and with ``devices > 1`` split across that many devices (``jax.shard_map``; no
    collectives: each device's while loops run to their own chains' ends).

    On a CPU the chains of a device run one after another (``jax.lax.map``) inside the one program:
    unbatched, NUTS's tree-building loop has no scatter and no batched dot, so XLA:CPU can compile it
    into a single kernel (`SMALL_LOOPS_XLA_FLAG`), which runs the diabetes lasso's 4 chains in about
    0.35 s instead of 1.6–2.4 s vectorised. Elsewhere they are vectorised (``jax.vmap``).

    Examples
    --------
    Three chains, each with its own first argument and the second shared:

    >>> import numpy as np
    >>> from bayesreg.engine.chains import map_chains
    >>> scaled = map_chains(lambda x, factor: factor * x.sum(), 1, (0, None))
    >>> np.asarray(scaled(np.arange(6.0).reshape(3, 2), 10.0))
    array([10., 50., 90.])
    """
    if chains_in_sequence():

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


# The chains run in parts: a first state, then calls of one program that each run a stretch of the
# loop over warmup and draws, then the draws. On a terminal a thread prints the progress as each call
# ends, so no program holds a host callback and all three can be exported; without a progress bar
# the loop is one call, with the same draws, bitwise. The state holds two of numpyro's named tuples,
# which jax.export serializes once they are registered.
for _named in (HMCState, HMCAdaptState):
    with contextlib.suppress(ValueError):  # registered already (by numpyro, or a reload)
        jax.export.register_namedtuple_serialization(_named, serialized_name=f"numpyro.{_named.__name__}")


def seed_keys(seed):
    """The key of the chains and a second key (for the caller's own draws, e.g. posterior
    predictive ones), from an integer ``seed``.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.engine.chains import seed_keys
    >>> chains_key, other_key = seed_keys(0)
    >>> chains_key.shape, bool(np.array_equal(seed_keys(0), seed_keys(0)))
    ((2,), True)
    """
    return jax.random.split(jax.random.PRNGKey(seed))


def _sampler(model, static, laplace_mixture: bool):
    """The model the chains sample: ``model`` (or its `scale_mixture`) with its static keywords."""
    return functools.partial(scale_mixture(model) if laplace_mixture else model, **dict(static))


def _one_model_call(fn):
    """``fn(sampler, ..., args, kwargs)`` of one chain, with its own keywords merged into the shared
    ones: ``fn(mine, *rest, args, kwargs)`` → ``fn(*rest, args, {**kwargs, **mine})``."""

    def one(mine, *rest):
        *rest, args, kwargs = rest
        return fn(*rest, args, {**kwargs, **mine})

    return one


_CHAIN_SETTINGS = (
    "model",
    "static",
    "num_warmup",
    "mass_matrix",
    "target_accept",
    "max_tree_depth",
    "devices",
    "laplace_mixture",
)


@program("nuts-start", static_argnames=(*_CHAIN_SETTINGS, "num_samples", "num_chains"), fast_compile=True)
def start_chains(
    model,
    static,
    seed,
    args,
    kwargs,
    per_chain,
    modes=None,
    *,
    num_warmup: int,
    num_samples: int,
    num_chains: int,
    mass_matrix: str,
    devices: int,
    laplace_mixture: bool = False,
    target_accept: float = TARGET_ACCEPT,
    max_tree_depth: int = MAX_TREE_DEPTH,
):
    """The first NUTS state of every chain, and the empty rows its kept transitions fill.

    Parameters
    ----------
    model : callable
        The model, called as ``model(*args, **kwargs, **per_chain[i], **dict(static))`` by chain
        ``i`` (as its `scale_mixture` with ``laplace_mixture``).
    static : tuple of (str, bool or str)
        Its static keywords (`~bayesreg.engine.arrays.split_static`).
    seed : array
        An integer seed (shape ()): the chains' keys are split from the first of `seed_keys`; a
        PRNG key (shape (2,)) they are split from; or the chains' own keys (shape
        (num_chains, 2)).
    args : tuple
        The model's data arguments, shared by every chain.
    kwargs : dict
        Its dynamic keywords shared by every chain.
    per_chain : dict
        Its keywords of each chain: leaves with a leading axis of length ``num_chains``.
    modes : dict, optional
        Each chain's mode (the MAP) on the unconstrained space, leaves with a leading axis of length
        ``num_chains``: the chain starts at a draw from the Laplace approximation there, with its
        covariance as the initial inverse mass matrix. Without it, uniformly in (-2, 2) with an
        identity mass matrix.
    num_warmup, num_samples, num_chains : int
    mass_matrix : {"auto", "dense", "diagonal"}
    devices : int
        Devices the chains are split across (`devices_for`).
    target_accept : float in (0, 1)
        The mean acceptance probability the step size adapts to.
    max_tree_depth : int
        The most doublings of a trajectory.
    laplace_mixture : bool
        Sample a Laplace prior on ``coef`` as `LaplaceScaleMixture`.

    Returns
    -------
    carry : (HMCState, rows)
        Leaves with a leading chain axis.

    Compiled with the quick compiler options on a CPU: the first state takes milliseconds to compute
    once per run, so its compilation is what counts (diabetes lasso: 1.7 s at XLA's default options;
    the chains' loop keeps them).

    Examples
    --------
    The first state of two chains of a linear model (coef and intercept: three unconstrained
    parameters), and the rows their 50 kept transitions fill (`sample_chains` calls it so):

    >>> import jax, numpy as np
    >>> from bayesreg.engine.arrays import as_arrays
    >>> from bayesreg.engine.chains import start_chains
    >>> from bayesreg.models import linear_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 2))
    >>> y = X @ np.array([1.0, -0.5]) + 0.3 * rng.normal(size=30)
    >>> prior = prior_from_penalty("gaussian", 1.0, convention="book")  # Normal(0, 1) on each weight
    >>> with jax.enable_x64(True):
    ...     args, kwargs = as_arrays(((X, y), {"prior": prior, "sigma": 0.3}))
    ...     carry = start_chains(linear_regression, (), np.asarray(0, dtype=np.int64), args, kwargs, {},
    ...                          num_samples=50, num_chains=2, num_warmup=50, mass_matrix=MASS_MATRIX,
    ...                          devices=1, laplace_mixture=False)
    >>> state, rows = carry
    >>> state.z["coef"].shape, rows[0]["coef"].shape, rows[1]["diverging"].shape
    ((2, 2), (2, 50, 2), (2, 50))
    """
    if jnp.ndim(seed) == 2:
        keys = seed
    else:
        keys = jax.random.split(seed_keys(seed)[0] if jnp.ndim(seed) == 0 else seed, num_chains)
    start = functools.partial(
        _chain_start,
        _sampler(model, static, laplace_mixture),
        num_warmup=num_warmup,
        num_samples=num_samples,
        mass_matrix=mass_matrix,
        target_accept=target_accept,
        max_tree_depth=max_tree_depth,
    )

    def one(mine, key, mode, args, kwargs):
        return start(key, args, {**kwargs, **mine}, mode)

    axes = (0, 0, None if modes is None else 0, None, None)
    return map_chains(one, devices, axes)(per_chain, keys, modes, args, kwargs)


@program("nuts-advance", static_argnames=(*_CHAIN_SETTINGS, "thin"))
def advance_chains(
    model,
    static,
    carry,
    args,
    kwargs,
    per_chain,
    begin,
    end,
    *,
    num_warmup: int,
    mass_matrix: str,
    devices: int,
    thin: int = 1,
    laplace_mixture: bool = False,
    target_accept: float = TARGET_ACCEPT,
    max_tree_depth: int = MAX_TREE_DEPTH,
):
    """Steps ``begin`` to ``end − 1`` (int32 arrays) of every chain's loop over warmup and draws, from
    ``carry`` (of `start_chains` or the steps before); step i writes row ``(i − num_warmup) // thin``,
    so every ``thin``-th step after warmup is kept. Other arguments as for `start_chains`.

    Examples
    --------
    The loop in two calls ends where it ends in one, bitwise (the command line's progress bar runs
    it in 20):

    >>> import jax, numpy as np
    >>> from bayesreg.engine.arrays import as_arrays
    >>> from bayesreg.engine.chains import advance_chains, start_chains
    >>> from bayesreg.models import linear_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 2))
    >>> y = X @ np.array([1.0, -0.5]) + 0.3 * rng.normal(size=30)
    >>> prior = prior_from_penalty("gaussian", 1.0, convention="book")  # Normal(0, 1) on each weight
    >>> with jax.enable_x64(True):
    ...     args, kwargs = as_arrays(((X, y), {"prior": prior, "sigma": 0.3}))
    ...     carry = start_chains(linear_regression, (), np.asarray(0, dtype=np.int64), args, kwargs, {},
    ...                          num_samples=50, num_chains=2, num_warmup=50, mass_matrix=MASS_MATRIX,
    ...                          devices=1, laplace_mixture=False)
    ...     def advance(carry, begin, end):
    ...         return advance_chains(linear_regression, (), carry, args, kwargs, {}, jax.numpy.int32(begin),
    ...                               jax.numpy.int32(end), thin=1, num_warmup=50, mass_matrix=MASS_MATRIX,
    ...                               devices=1, laplace_mixture=False)
    ...     once = advance(carry, 0, 100)
    ...     twice = advance(advance(carry, 0, 40), 40, 100)
    >>> bool(np.array_equal(once[1][0]["coef"], twice[1][0]["coef"]))
    True
    """
    advance = functools.partial(
        _chain_advance,
        _sampler(model, static, laplace_mixture),
        num_warmup=num_warmup,
        thin=thin,
        mass_matrix=mass_matrix,
        target_accept=target_accept,
        max_tree_depth=max_tree_depth,
    )

    def one(mine, carry, begin, end, args, kwargs):
        return advance(carry, args, {**kwargs, **mine}, begin, end)

    mapped = map_chains(one, devices, (0, 0, None, None, None, None))
    return mapped(per_chain, carry, begin, end, args, kwargs)


@program("nuts-draws", static_argnames=("model", "static", "devices", "laplace_mixture"))
def chain_draws(
    model, static, carry, args, kwargs, per_chain, *, devices: int, laplace_mixture: bool = False
):
    """Every chain's kept rows as draws (constrained values of the sample and deterministic sites,
    shaped (num_chains, num_samples, ...)) and sample statistics, from the ``carry`` (last states
    and rows) of `advance_chains`; each draw's model call is seeded with a key split from its
    chain's last state (for sites a model draws given the sampled ones). Other arguments as for
    `start_chains`.

    Examples
    --------
    The three programs in turn give the draws `sample_chains` gives:

    >>> import jax, numpy as np
    >>> from bayesreg.engine.arrays import as_arrays
    >>> from bayesreg.engine.chains import advance_chains, chain_draws, sample_chains, start_chains
    >>> from bayesreg.models import linear_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 2))
    >>> y = X @ np.array([1.0, -0.5]) + 0.3 * rng.normal(size=30)
    >>> prior = prior_from_penalty("gaussian", 1.0, convention="book")  # Normal(0, 1) on each weight
    >>> with jax.enable_x64(True):
    ...     args, kwargs = as_arrays(((X, y), {"prior": prior, "sigma": 0.3}))
    ...     carry = start_chains(linear_regression, (), np.asarray(0, dtype=np.int64), args, kwargs, {},
    ...                          num_samples=50, num_chains=2, num_warmup=50, mass_matrix=MASS_MATRIX,
    ...                          devices=1, laplace_mixture=False)
    ...     carry = advance_chains(linear_regression, (), carry, args, kwargs, {}, jax.numpy.int32(0),
    ...                            jax.numpy.int32(100), thin=1, num_warmup=50, mass_matrix=MASS_MATRIX,
    ...                            devices=1, laplace_mixture=False)
    ...     draws, stats = chain_draws(linear_regression, (), carry, args, kwargs, {}, devices=1,
    ...                                laplace_mixture=False)
    ...     chains = sample_chains(linear_regression, 0, args, kwargs, num_chains=2, num_warmup=50,
    ...                            num_samples=50)
    >>> bool(np.array_equal(draws["coef"], chains.draws["coef"]))
    True
    """
    draws = functools.partial(_chain_draws, _sampler(model, static, laplace_mixture))
    return map_chains(_one_model_call(draws), devices, (0, 0, None, None))(per_chain, carry, args, kwargs)


class Chains(NamedTuple):
    """NUTS chains, as `sample_chains` returns them (their arrays possibly still being computed).

    Attributes
    ----------
    draws : dict of str to array, each of shape (num_chains, num_samples, *site_shape)
        Constrained values of the sample and deterministic sites.
    stats : dict of str to array, each of shape (num_chains, num_samples)
        ``diverging``, ``energy``, ``num_steps``, ``accept_prob``, ``potential_energy``,
        ``step_size`` of the kept transitions.
    mass_matrix : numpy.ndarray of str, shape (num_chains,)
        The mass matrix each chain adapted: "dense" or "diagonal".
    mixture : numpy.ndarray of bool, shape (num_chains,)
        Whether each chain sampled a Laplace prior as `LaplaceScaleMixture`.
    progress : threading.Thread or None
        The thread printing the progress on stderr (with a progress bar), else None: `wait` for it
        before printing anything else.

    Examples
    --------
    `sample_chains` returns them; here two chains of five draws, made by hand:

    >>> import numpy as np
    >>> from bayesreg.engine.chains import Chains
    >>> chains = Chains(draws={"coef": np.zeros((2, 5, 3))}, stats={"diverging": np.zeros((2, 5), bool)},
    ...                 mass_matrix=np.full(2, "dense"), mixture=np.zeros(2, bool), progress=None)
    >>> chains.wait() is chains, chains.draws["coef"].shape[:2]
    (True, (2, 5))
    """

    draws: dict
    stats: dict
    mass_matrix: np.ndarray
    mixture: np.ndarray
    progress: threading.Thread | None

    def wait(self) -> Chains:
        """The chains, once the progress thread (if any) has printed its last line; reading the
        arrays waits for them to be computed."""
        if self.progress is not None:
            self.progress.join()
        return self


def sample_chains(
    model,
    seed,
    args: tuple,
    kwargs: dict,
    per_chain: dict | None = None,
    *,
    num_chains: int,
    num_warmup: int,
    num_samples: int,
    modes: dict | None = None,
    thin: int = 1,
    mass_matrix: str = MASS_MATRIX,
    target_accept: float = TARGET_ACCEPT,
    max_tree_depth: int = MAX_TREE_DEPTH,
    laplace_mixture: bool = False,
    progress_bar: bool = False,
    devices: int | None = None,
) -> Chains:
    """NUTS chains on ``model``: the first states, the loop over warmup and draws, the draws.

    JAX dispatches the programs asynchronously: this returns as soon as they are queued, and work
    done before reading the draws (a MAP, an import) overlaps the sampling.

    Parameters
    ----------
    model : callable
        The model: chain ``i`` samples ``model(*args, **kwargs, **per_chain_i)``.
    seed : int or array
        An integer seed, a PRNG key the chains' keys are split from, or the chains' keys (see
        `start_chains`).
    args : tuple
        Data arguments shared by the chains (arrays: convert host values with
        `~bayesreg.engine.arrays.as_arrays` first, inside ``jax.enable_x64`` for float64).
    kwargs : dict
        Keywords shared by the chains; booleans and strings are static settings.
    per_chain : dict, optional
        Keywords of each chain: pytrees whose leaves have a leading axis of length ``num_chains``
        (the priors of a grid, the simulated targets of a calibration batch).
    num_chains, num_warmup, num_samples : int
    modes : dict, optional
        Each chain's mode (the MAP) on the unconstrained space (leaves with a leading axis of
        length ``num_chains``, as `numpyro.infer.util.unconstrain_fn` gives a position): start the
        chain at a draw from the Laplace approximation there, with its covariance (the inverse
        Hessian of the potential) as the initial inverse mass matrix, instead of uniformly in
        (-2, 2) with an identity mass matrix.
    thin : int
        Keep every ``thin``-th step after warmup (``num_samples × thin`` steps are run).
    mass_matrix : {"auto", "dense", "diagonal"}
        The mass matrix adapted during warmup: "auto" is dense for at most `DENSE_UP_TO`
        unconstrained parameters, or where their number squared is at most `DENSE_DATA_FRACTION`
        of the elements of ``args`` and ``kwargs`` (a model evaluated per row, whose gradient
        costs far more than a dense matrix), diagonal otherwise (`dense_mass`).
    target_accept : float in (0, 1)
        The mean acceptance probability the step size adapts to during warmup (numpyro's
        ``target_accept_prob``): higher takes smaller steps, which removes divergences where the
        posterior's curvature varies strongly, at more gradient evaluations per draw.
    max_tree_depth : int in [1, 15]
        The most doublings of a trajectory: at most ``2**max_tree_depth`` leapfrog steps per draw.
    laplace_mixture : bool
        Sample a Laplace prior on ``coef`` as `LaplaceScaleMixture`.
    progress_bar : bool
        Run the loop in 20 calls of its program and print the progress on stderr as each ends
        (the same draws, bitwise).
    devices : int, optional
        Local devices the chains are split across (default `devices_for`); 1 keeps every chain in
        one program over the devices its arguments are sharded on (`bayesreg.sharded`).

    Returns
    -------
    Chains

    Examples
    --------
    Two chains of 50 warmup steps and 50 draws on a linear model with a Normal(0, 1) prior on the
    weights and σ = 0.3 known, whose posterior sd per weight is about 0.06:

    >>> import jax, numpy as np
    >>> from bayesreg.engine.arrays import as_arrays
    >>> from bayesreg.engine.chains import sample_chains
    >>> from bayesreg.models import linear_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 2))
    >>> y = X @ np.array([1.0, -0.5]) + 0.3 * rng.normal(size=30)
    >>> prior = prior_from_penalty("gaussian", 1.0, convention="book")  # Normal(0, 1) on each weight
    >>> with jax.enable_x64(True):
    ...     args, kwargs = as_arrays(((X, y), {"prior": prior, "sigma": 0.3}))
    ...     chains = sample_chains(linear_regression, 0, args, kwargs, num_chains=2, num_warmup=50,
    ...                            num_samples=50)
    >>> chains.draws["coef"].shape, chains.stats["diverging"].shape, chains.mass_matrix.tolist()
    ((2, 50, 2), (2, 50), ['dense', 'dense'])
    >>> bool(np.allclose(chains.draws["coef"].mean(axis=(0, 1)), [1.0, -0.5], atol=0.2))
    True
    """
    dynamic, static = split_static(kwargs)
    per_chain = {} if per_chain is None else per_chain
    devices = devices_for(num_chains) if devices is None else devices
    seed = seed if isinstance(seed, jax.Array) else np.asarray(seed, dtype=np.int64)
    shared = None
    if devices > 1:  # committed to the mesh: an exported multi-device program needs that
        mesh = _chain_mesh(devices)
        shared = NamedSharding(mesh, P())
        seed, args, dynamic = jax.device_put((seed, args, dynamic), shared)
        per_chain, modes = jax.device_put((per_chain, modes), NamedSharding(mesh, P("chain")))
    nuts = {"mass_matrix": mass_matrix, "target_accept": target_accept, "max_tree_depth": max_tree_depth}
    settings = {
        "num_warmup": num_warmup,
        **check_params(nuts),
        "devices": devices,
        "laplace_mixture": bool(laplace_mixture),
    }
    carry = start_chains(
        model,
        static,
        seed,
        args,
        dynamic,
        per_chain,
        modes,
        num_samples=num_samples,
        num_chains=num_chains,
        **settings,
    )

    def advance(carry, begin, end):
        bounds = (begin, end)
        return advance_chains(model, static, carry, args, dynamic, per_chain, *bounds, thin=thin, **settings)

    total = num_warmup + num_samples * thin
    carry, progress = _in_parts(advance, carry, total, 20 if progress_bar else 1, shared)
    draws, stats = chain_draws(
        model,
        static,
        carry,
        args,
        dynamic,
        per_chain,
        devices=devices,
        laplace_mixture=settings["laplace_mixture"],
    )
    # (chain, d, d) for a dense matrix, (chain, d) for a diagonal one
    adapted = "dense" if jnp.ndim(carry[0].adapt_state.inverse_mass_matrix) == 3 else "diagonal"
    return Chains(
        draws=draws,
        stats=stats,
        mass_matrix=np.full(num_chains, adapted),
        mixture=np.full(num_chains, bool(laplace_mixture)),
        progress=progress,
    )


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


def fall_back_to_mixture(direct: Chains, rerun: Callable[[], Chains], group_size: int) -> Chains:
    """``direct``, or where it diverged, the chains sampled again with `LaplaceScaleMixture`.

    The kink of the Laplace density at 0 can make NUTS diverge. If any kept transition of
    ``direct`` diverged, ``rerun()`` samples the same chains as the scale mixture (same seed and
    settings, ``laplace_mixture=True``), and each group of ``group_size`` consecutive chains (the
    chains of one posterior: all of them for a fit, one grid point's for a path) keeps the run with
    fewer divergences, draws and statistics alike (the direct one on a tie). A site only the mixture
    has (``coef_std``, ``coef_var``) is kept when every group chose the mixture.

    Parameters
    ----------
    direct : Chains
        Chains sampled with the Laplace density.
    rerun : callable
        ``rerun()`` samples the same chains with ``laplace_mixture=True``; called only on a
        divergence.
    group_size : int
        Chains per group; divides the number of chains.

    Returns
    -------
    Chains
        ``direct`` itself without a divergence; else its chains and the mixture's, by group.

    Examples
    --------
    Two posteriors of two chains each (``group_size=2``); one transition of the first diverged, so
    that group takes the mixture's chains and the other keeps its own:

    >>> import numpy as np
    >>> from bayesreg.engine.chains import Chains, fall_back_to_mixture
    >>> def chains(diverging, value, mixture):
    ...     diverging = np.array(diverging, dtype=bool)  # (num_chains, num_samples)
    ...     return Chains({"coef": np.full(diverging.shape, value)}, {"diverging": diverging},
    ...                   np.full(len(diverging), "dense"), np.full(len(diverging), mixture), None)
    >>> direct = chains([[0, 1], [0, 0], [0, 0], [0, 0]], 0.0, mixture=False)
    >>> mixed = chains([[0, 0], [0, 0], [0, 0], [0, 0]], 1.0, mixture=True)
    >>> kept = fall_back_to_mixture(direct, lambda: mixed, group_size=2)
    >>> kept.mixture.tolist(), kept.draws["coef"][:, 0].tolist()
    ([True, True, False, False], [1.0, 1.0, 0.0, 0.0])
    >>> fall_back_to_mixture(mixed, lambda: direct, group_size=2) is mixed  # no divergence, no rerun
    True
    """

    def per_group(chains: Chains) -> np.ndarray:
        diverging = np.asarray(chains.stats["diverging"])  # (num_chains, num_samples)
        return diverging.reshape(-1, group_size * diverging.shape[1]).sum(axis=1)

    divergences = per_group(direct)
    if not divergences.any():
        return direct
    direct.wait()  # its progress line is complete before the second run prints its own
    mixed = rerun()
    use = np.repeat(per_group(mixed) < divergences, group_size)
    if use.all():
        return mixed
    if not use.any():
        return direct

    def choose(a, b):
        a, b = np.asarray(a), np.asarray(b)
        return np.where(use.reshape(-1, *[1] * (a.ndim - 1)), b, a)

    return Chains(
        draws={k: choose(v, mixed.draws[k]) for k, v in direct.draws.items() if k in mixed.draws},
        stats={k: choose(v, mixed.stats[k]) for k, v in direct.stats.items()},
        mass_matrix=np.where(use, mixed.mass_matrix, direct.mass_matrix),
        mixture=use,
        progress=mixed.progress,
    )
