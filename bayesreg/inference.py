"""How to infer: the MAP by SVI with an AutoDelta guide.

The MAP of a model whose weights have a Laplace or elastic-net prior minimises a smooth negative log
joint plus ``λ₁‖w‖₁``. `map_estimate` runs ``numpyro.infer.SVI`` with an ``AutoDelta`` guide on the
model with its prior's smooth part only, and hands the ``λ₁‖w‖₁`` part to the `ProximalNewton`
optimiser as a proximal term, so exact zeros stay exact zeros. Everything runs in float64 (inside
``jax.enable_x64``, without touching the global setting) and is compiled once per model and data
shape: new data, penalty strengths or noise levels of the same shapes reuse the compiled solver.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
from jax import lax
from numpyro import handlers
from numpyro.distributions.transforms import biject_to
from numpyro.infer import SVI
from numpyro.infer.autoguide import AutoDelta
from numpyro.infer.elbo import ELBO
from numpyro.infer.util import log_density
from sklearn.exceptions import ConvergenceWarning

from bayesreg import _export_cache
from bayesreg.optim import ProximalNewton
from bayesreg.priors import Prior

__all__ = ["DeltaELBO", "MAPResult", "map_estimate", "map_grid"]


class DeltaELBO(ELBO):
    """The negative ELBO of a point-mass guide: ``−log p(y, z)`` at the guide's ``z``.

    For an ``AutoDelta`` guide this is the value ``Trace_ELBO`` computes (the guide's log-density is
    0), summed over the sites in trace order. ``Trace_ELBO`` sums over a Python ``set``, whose order
    changes between processes, so its compiled program never hits JAX's persistent compilation
    cache; this loss also compiles to about a third of the program.
    """

    def loss_with_mutable_state(self, rng_key, param_map, model, guide, *args, **kwargs):
        guide_log_density, guide_trace = log_density(handlers.seed(guide, rng_key), args, kwargs, param_map)
        model_log_density, _ = log_density(handlers.replay(model, guide_trace), args, kwargs, param_map)
        return {"loss": guide_log_density - model_log_density, "mutable_state": None}


class MAPResult(NamedTuple):
    """The MAP of a model, as `map_estimate` returns it.

    Attributes
    ----------
    params : dict of str to numpy.ndarray
        Site values at the mode: ``coef`` (n_features,), ``intercept`` () and ``sigma`` () when
        they are sites.
    num_steps : int
        Proximal Newton steps taken (summed over the rounds when σ is estimated too).
    residual : float
        Optimality residual (largest minimum-norm subgradient entry) at the returned point,
        relative to the one at the start.
    converged : bool
        Whether ``residual <= tol``.
    """

    params: dict
    num_steps: int
    residual: float
    converged: bool


def _split_static(kwargs: dict) -> tuple[dict, tuple]:
    static = tuple(sorted((k, v) for k, v in kwargs.items() if isinstance(v, bool | str)))
    dynamic = {k: v for k, v in kwargs.items() if not isinstance(v, bool | str)}
    return dynamic, static


def _init_to(site=None, values=None):
    """Start at ``values`` by site name; other latent sites at the unconstrained origin."""
    if site is None:
        return functools.partial(_init_to, values=values)
    if site["type"] != "sample" or site["is_observed"]:
        return None
    if site["name"] in (values or {}):
        return values[site["name"]]
    transform = biject_to(site["fn"].support)
    return transform(jnp.zeros(transform.inverse_shape(site["fn"].shape())))


class _StartAt(AutoDelta):
    """An ``AutoDelta`` guide whose prototype is one run of the model at its ``init_loc_fn`` values.

    ``AutoGuide`` builds its prototype with ``numpyro.infer.util.initialize_model``, which looks
    for a start with a finite log density and gradient in a ``while_loop`` of gradient
    evaluations; inside the compiled solver that search was about a third of the XLA compile time
    and never ran more than once, because the start is given. A start that is not finite shows up
    as a non-finite residual instead.
    """

    def _setup_prototype(self, *args, **kwargs):
        with handlers.block():
            start = handlers.substitute(handlers.seed(self.model, 0), substitute_fn=self.init_loc_fn)
            self.prototype_trace = handlers.trace(start).get_trace(*args, **kwargs)
        self._init_locs = {}
        for name, site in self.prototype_trace.items():
            if site["type"] == "sample" and not site["is_observed"]:
                self._init_locs[name] = site["value"]
                self._event_dims[name] = site["fn"].event_dim
                self._prototype_frames.update((f.name, f) for f in site["cond_indep_stack"])
            elif site["type"] == "plate":
                self._prototype_frame_full_sizes[name] = site["args"][0]


# On a CPU, XLA's LLVM optimisation and its newer fusion emitters take most of the solver's first
# call: without them the n=20000, p=200 lasso solver compiled in 0.5 s of CPU instead of 2.6 s, and
# its coordinate descent ran at about half speed (a solve of that lasso 12 ms instead of 5 ms).
_FAST_COMPILE_CPU = {"xla_backend_optimization_level": 0, "xla_cpu_use_fusion_emitters": False}


@functools.cache
def _compiler_options() -> dict:
    """`_FAST_COMPILE_CPU` on a CPU whose XLA knows those options; none elsewhere."""
    if jax.default_backend() != "cpu":
        return {}
    try:
        jax.jit(lambda x: x + 1.0, compiler_options=_FAST_COMPILE_CPU).lower(0.0).compile()
    except jax.errors.JaxRuntimeError:  # an XLA that has renamed or dropped them
        return {}
    return _FAST_COMPILE_CPU


_STATIC_ARGS = ("model", "static", "has_l1", "max_steps")  # of `_solve` and `_solve_grid`


@functools.cache
def _solver():
    """`_solve`, jitted; built at the first MAP, once the backend is known."""
    return jax.jit(_solve, static_argnames=_STATIC_ARGS, compiler_options=_compiler_options())


@functools.cache
def _grid_solver():
    """`_solve_grid`, jitted with XLA's default options: a grid is many solves, so run time counts."""
    return jax.jit(_solve_grid, static_argnames=_STATIC_ARGS)


def _solve_grid(model, static, args, kwargs, l1, init, tol, *, has_l1, max_steps):
    """`_solve` at each grid point (the leading axis of ``kwargs`` and ``l1``), each one started
    from the solution at the one before (the first from ``init``)."""

    def one(start, point):
        values, k, residual = _solve(
            model, static, args, *point, start, tol, has_l1=has_l1, max_steps=max_steps
        )
        return {name: values[name] for name in start}, (values, k, residual)

    return lax.scan(one, init, (kwargs, l1))[1]


def _solve(model, static, args, kwargs, l1, init, tol, *, has_l1, max_steps):
    """Run SVI(model, AutoDelta, ProximalNewton) until the relative residual is ``<= tol``."""
    kwargs = {**kwargs, **dict(static)}
    guide = _StartAt(model, init_loc_fn=_init_to(values=init))
    optim = ProximalNewton({"coef_auto_loc": l1} if has_l1 else None)
    svi = SVI(model, guide, optim, DeltaELBO())

    def params(state):
        return state.optim_state[1].flat_params

    def go_on(carry):
        state, previous, k = carry
        moved = jnp.any(params(state) != previous)
        prox = state.optim_state[1]  # residual and its scale: inf and tiny before the first step
        return (prox.residual > tol * prox.scale) & moved & (k < max_steps)

    def body(carry):
        state, _, k = carry
        new, _ = svi.update(state, *args, **kwargs)
        # The loss is deterministic, so the key is not needed: keeping the same one makes the key
        # splitting SVI does at each step dead code, which XLA then drops.
        return new._replace(rng_key=state.rng_key), params(state), k + 1

    state = svi.init(jax.random.PRNGKey(0), *args, **kwargs)
    state, _, k = lax.while_loop(go_on, body, (state, params(state) + 1.0, 0))
    found = svi.get_params(state)
    values = {name[: -len("_auto_loc")]: v for name, v in found.items()}
    prox = state.optim_state[1]
    return values, k, prox.residual / prox.scale


@functools.cache
def _given(model):
    """``model`` with some sample sites fixed through the keyword ``given`` (one object per model)."""

    def conditioned(*args, given, **kwargs):
        with handlers.condition(data=given):
            return model(*args, **kwargs)

    return conditioned


def map_estimate(
    model,
    *args,
    prior: Prior | None,
    tol: float = 1e-10,
    max_steps: int = 200,
    init: dict | None = None,
    **model_kwargs,
) -> MAPResult:
    """MAP of ``model(*args, prior=prior, **model_kwargs)`` by SVI with an AutoDelta guide.

    Minimises the negative log joint

    .. math::

        -\\log p(y \\mid w, b, σ) + λ_1 \\lVert w \\rVert_1 + \\tfrac{λ_2}{2} \\lVert w \\rVert^2
        - \\log p(σ) + \\text{const},

    with the Laplace part ``λ₁‖w‖₁`` of ``prior`` handled by the proximal operator of
    `~bayesreg.optim.ProximalNewton` (exact zeros) and the rest by Newton steps.

    Parameters
    ----------
    model : callable
        A model of `bayesreg.models` (a ``prior=`` keyword and a site ``coef``).
    *args
        The model's data arguments (arrays, or `~bayesreg.models.SufficientStats`).
    prior : Prior or None
        Prior on ``coef`` (``None``: flat, maximum likelihood in the weights).
    tol : float
        Stop when the optimality residual falls to ``tol`` times its value at the start.
    max_steps : int
        Largest number of proximal Newton steps (per round).
    init : dict, optional
        Starting values by site name (a warm start); zeros and σ = 1 otherwise.
    **model_kwargs
        Passed to the model. When ``sigma`` is a distribution (σ unknown), the weights given σ and
        σ given the weights are found in turn until σ changes by less than ``1e-10`` relative.

    Returns
    -------
    MAPResult

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        If the residual did not reach ``tol`` in ``max_steps`` steps.
    """
    with jax.enable_x64(True):
        # Python floats, NumPy and JAX numbers all become float64 arrays: one compiled solver
        args, init, model_kwargs = _as_arrays((args, init or {}, model_kwargs))
        sigma = model_kwargs.get("sigma")
        if isinstance(sigma, dist.Distribution):
            return _alternate(model, args, prior, sigma, model_kwargs, init, tol, max_steps)
        return _fixed_noise(model, args, prior, model_kwargs, init, tol, max_steps)


def _fixed_noise(model, args, prior, model_kwargs, init, tol, max_steps) -> MAPResult:
    kwargs, static = _split_static({**model_kwargs, "prior": _smooth(prior)})
    has_l1 = prior is not None and prior.kind != "gaussian"
    l1 = prior.rates(model_kwargs.get("sigma", 1.0))[0] if has_l1 else 0.0
    l1 = jnp.asarray(l1, dtype=float)
    values, k, residual = _run_solver(model, static, args, kwargs, l1, init, tol, has_l1, max_steps)
    return _result(values, k, residual, tol)


def map_grid(
    model,
    *args,
    priors: Sequence[Prior],
    init: dict,
    tol: float = 1e-10,
    max_steps: int = 200,
    **model_kwargs,
) -> list[MAPResult]:
    """`map_estimate` at each prior of a sequence, each from the solution at the one before.

    One compiled program runs the whole sequence (a ``lax.scan``), so a grid of penalty strengths
    costs no Python round trip per point.

    Parameters
    ----------
    model : callable
        As for `map_estimate`.
    *args
        The model's data arguments.
    priors : sequence of Prior, length n_points
        Priors of one kind (their strengths vary), in the order to compute them.
    init : dict
        Start of the first point by site name: every site that is warm-started (``coef`` and,
        when fitted, ``intercept``; zeros are the cold start).
    tol, max_steps
        As for `map_estimate`, at each point.
    **model_kwargs
        Passed to the model; ``sigma`` must be fixed (a number).

    Returns
    -------
    list of MAPResult, length n_points

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        For each point whose residual did not reach ``tol``.
    """
    with jax.enable_x64(True):
        args, init, model_kwargs = _as_arrays((args, init, model_kwargs))
        has_l1 = priors[0].kind != "gaussian"
        sigma = model_kwargs.get("sigma", 1.0)
        split = [_split_static({**model_kwargs, "prior": _smooth(prior)}) for prior in priors]
        if len({(prior.kind, prior.noise_scaled) for prior in priors}) > 1:
            raise ValueError("map_grid: the priors must all be of one kind (only their strengths vary)")
        kwargs = jax.tree.map(lambda *leaves: jnp.stack(leaves), *(dynamic for dynamic, _ in split))
        l1 = jnp.asarray([prior.rates(sigma)[0] if has_l1 else 0.0 for prior in priors], dtype=float)
        values, k, residual = _grid_solver()(
            model, split[0][1], args, kwargs, l1, init, tol, has_l1=has_l1, max_steps=max_steps
        )
        values, k, residual = jax.device_get((values, k, residual))
    return [
        _result({name: v[i] for name, v in values.items()}, k[i], residual[i], tol)
        for i in range(len(priors))
    ]


def _alternate(model, args, prior, sigma_prior, model_kwargs, init, tol, max_steps) -> MAPResult:
    sigma = jnp.asarray(init.pop("sigma", 1.0), dtype=float)
    total = 0
    for _ in range(100):
        weights = _fixed_noise(model, args, prior, {**model_kwargs, "sigma": sigma}, init, tol, max_steps)
        kwargs, static = _split_static(
            {**model_kwargs, "prior": prior, "sigma": sigma_prior, "given": weights.params}
        )
        values, k, residual = _run_solver(
            _given(model), static, args, kwargs, jnp.zeros(()), {"sigma": sigma}, tol, False, max_steps, model
        )
        total += weights.num_steps + int(k)
        change = abs(float(values["sigma"]) - float(sigma))
        # σ on the host, as in the first round. Each round's weights start where the first did (from
        # ``init``): started from the round before, the solver would see another init structure in
        # the second round and compile (or, on the command line, load) a second program, which
        # costs more than the few proximal Newton steps the warm start saves.
        sigma = np.asarray(values["sigma"])
        if change <= 1e-10 * float(sigma):
            break
    params = {**weights.params, "sigma": np.asarray(sigma)}
    return _result(params, total, max(weights.residual, float(residual)), tol, weights.converged)


def _run_solver(model, static, args, kwargs, l1, init, tol, has_l1, max_steps, named=None):
    """The jitted `_solve`, through `bayesreg._export_cache` when caching is on (the command line):
    a second process then skips tracing and lowering it. ``named``: the model whose name stands
    for ``model`` in the cache (``model`` itself when None; `_given` of it otherwise)."""
    arrays = _as_arrays((args, kwargs, l1, init, tol))  # a prior's Python floats too

    def traced():
        return _solver()(model, static, *arrays, has_l1=has_l1, max_steps=max_steps)

    name = _export_cache.program_name(named or model)
    if name is None:
        return traced()
    name = f"map-{name}" if named is None else f"map-given-{name}"
    solve = functools.partial(_solve, model, static, has_l1=has_l1, max_steps=max_steps)
    settings = (static, has_l1, max_steps)
    return _export_cache.call(name, settings, solve, arrays, traced, compiler_options=_compiler_options())


def _as_arrays(tree):
    """Every numeric leaf of ``tree`` as a float64 array (booleans and strings stay as they are).

    Host values (Python numbers, NumPy arrays) are converted by NumPy and then put on the device:
    converting them with ``jnp.asarray`` is a JAX operation, which a new process compiles (once per
    shape) before the first fit can start. JAX arrays and tracers are converted by JAX.
    """

    def as_array(a):
        if isinstance(a, bool | str):
            return a
        if isinstance(a, jax.Array):
            return jnp.asarray(a, dtype=float)
        return jax.device_put(np.asarray(a, dtype=np.float64))

    return jax.tree.map(as_array, tree)


def _smooth(prior: Prior | None) -> Prior | None:
    return None if prior is None else prior.smooth_part()


def _result(values, num_steps, residual, tol, converged=True) -> MAPResult:
    residual = float(residual)
    converged = bool(converged) and residual <= tol
    if not converged:
        warnings.warn(
            f"MAP did not converge: optimality residual {residual:.2e} > tol {tol:.0e} "
            f"after {int(num_steps)} proximal Newton steps; raise max_steps, or check the data "
            "for (near-)duplicate columns",
            ConvergenceWarning,
            stacklevel=3,
        )
    params = {k: np.asarray(v) for k, v in values.items()}
    return MAPResult(params, int(num_steps), residual, converged)
