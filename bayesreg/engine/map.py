"""How to infer: the MAP by SVI with an AutoDelta guide.

The MAP of a model whose weights have a Laplace or elastic-net prior minimises a smooth negative log
joint plus ``λ₁‖w‖₁``. `map_estimate` runs ``numpyro.infer.SVI`` with an ``AutoDelta`` guide on the
model with its prior's smooth part only, and hands the ``λ₁‖w‖₁`` part to the
`~bayesreg.engine.proximal.ProximalNewton` optimiser as a proximal term, so exact zeros stay exact
zeros. Everything runs in float64 (inside ``jax.enable_x64``, without touching the global setting)
and is compiled once per model and data shape: new data, penalty strengths or noise levels of the
same shapes reuse the compiled solver. `map_grid` runs a grid of priors in one compiled scan.

For the linear model with a Gaussian likelihood from its sufficient statistics the negative log
joint is quadratic in the weights: `linear_map` finds that MAP on the host (NumPy and LAPACK, no
compilation), falling back to `map_estimate` where it has no closed step. For the Poisson and
negative binomial models with a `~bayesreg.priors.Prior` and a flat intercept, `map_estimate`
itself runs the host solver `bayesreg.engine.glm.glm_map` (proximal Newton on the weighted Gram,
one pass over the rows per step), and the compiled solver only where that stops above ``tol``.

The solvers are three programs (`bayesreg.engine.programs`): `solve` (one MAP), `solve_given` (the
same with some sites fixed: the noise sd's round of a MAP with unknown σ) and `solve_grid`.
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
import scipy.linalg
from jax import lax
from numpyro import handlers
from numpyro.distributions import constraints
from numpyro.distributions.transforms import biject_to
from numpyro.infer import SVI
from numpyro.infer.autoguide import AutoDelta
from numpyro.infer.elbo import ELBO
from numpyro.infer.util import log_density
from sklearn.exceptions import ConvergenceWarning

from bayesreg.engine.arrays import as_arrays, split_static
from bayesreg.engine.glm import glm_map
from bayesreg.engine.programs import program
from bayesreg.engine.proximal import ProximalNewton, kkt_residual, minimise_quadratic_l1
from bayesreg.params import check_params
from bayesreg.priors import Prior

__all__ = [
    # the MAP
    "DeltaELBO",
    "MAPResult",
    "linear_map",
    "map_estimate",
    "map_grid",
    # its compiled programs
    "solve",
    "solve_given",
    "solve_grid",
]


class DeltaELBO(ELBO):
    """The negative ELBO of a point-mass guide: ``−log p(y, z)`` at the guide's ``z``.

    For an ``AutoDelta`` guide this is the value ``Trace_ELBO`` computes (the guide's log-density is
    0), summed over the sites in trace order. ``Trace_ELBO`` sums over a Python ``set``, whose order
    changes between processes, so its compiled program never hits JAX's persistent compilation
    cache; this loss also compiles to about a third of the program.

    Examples
    --------
    At the guide's point (coef 0.9, intercept 0.2) the loss is the negative log joint, here the
    Gaussian negative log-likelihood (σ = 1; flat priors):

    >>> import jax, numpy as np
    >>> from numpyro.infer.autoguide import AutoDelta
    >>> from scipy.stats import norm
    >>> from bayesreg.engine.map import DeltaELBO
    >>> from bayesreg.models import linear_regression
    >>> X, y = np.array([[1.0], [2.0], [3.0]]), np.array([1.0, 2.5, 2.9])
    >>> guide = AutoDelta(linear_regression)
    >>> point = {"coef_auto_loc": np.array([0.9]), "intercept_auto_loc": 0.2}
    >>> def loss(point):
    ...     return DeltaELBO().loss(jax.random.PRNGKey(0), point, linear_regression, guide, X, y, prior=None)
    >>> bool(np.isclose(jax.jit(loss)(point), -norm.logpdf(y, loc=0.2 + 0.9 * X[:, 0]).sum()))
    True
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

    Examples
    --------
    The lasso of scikit-learn's ``Lasso(alpha=0.1)`` as a MAP (σ = 1 fixed, so no ``sigma`` site):

    >>> import numpy as np
    >>> from bayesreg.engine.map import map_estimate
    >>> from bayesreg.models import linear_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=30)
    >>> result = map_estimate(linear_regression, X, y, prior=prior_from_penalty("laplace", 0.1, n_samples=30))
    >>> sorted(result.params), result.params["coef"].shape, result.converged, result.residual <= 1e-10
    (['coef', 'intercept'], (3,), True, True)
    """

    params: dict
    num_steps: int
    residual: float
    converged: bool


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
    evaluations; inside the compiled solver that search would be about a third of the XLA compile
    time, for a loop that never runs more than once, because the start is given. A start that is
    not finite shows up as a non-finite residual instead.
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


_STATIC_ARGS = ("model", "static", "has_l1", "max_steps")  # of the solvers


@program("map", static_argnames=_STATIC_ARGS, fast_compile=True)
def solve(model, static, args, kwargs, l1, init, tol, *, has_l1, max_steps):
    """Run SVI(model, AutoDelta, ProximalNewton) until the relative residual is ``<= tol``.

    Parameters
    ----------
    model : callable
        The model, called as ``model(*args, **kwargs, **dict(static))``.
    static : tuple of (str, bool or str)
        Its static keywords (`~bayesreg.engine.arrays.split_static`).
    args : tuple
        Its data arguments.
    kwargs : dict
        Its dynamic keywords (the prior's smooth part, σ ...).
    l1 : array, shape ()
        The Laplace rate λ₁ of the weights (used when ``has_l1``).
    init : dict
        The start, by site name (other sites at the unconstrained origin).
    tol : array, shape ()
        Stop at a relative optimality residual ``<= tol``.
    has_l1 : bool
        Whether the weights have an L1 term (a proximal step) or not (Newton steps).
    max_steps : int
        Largest number of proximal Newton steps.

    Returns
    -------
    values : dict of str to array
        Site values at the end.
    num_steps : array of int, shape ()
    residual : array, shape ()
        The optimality residual at the end, relative to the one at the start.

    Compiled with the quick compiler options on a CPU (a MAP runs for milliseconds).

    Examples
    --------
    ``Lasso(alpha=0.1)`` on 30 rows is a Laplace prior of rate ``λ₁ = nα = 3`` (σ = 1), whose
    smooth part is flat: the program `map_estimate` runs for it, with the same values, bitwise:

    >>> import jax, numpy as np
    >>> from bayesreg.engine.arrays import as_arrays
    >>> from bayesreg.engine.map import map_estimate, solve
    >>> from bayesreg.models import linear_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=30)
    >>> with jax.enable_x64(True):
    ...     args, kwargs, l1, tol = as_arrays(((X, y), {"prior": None}, 3.0, 1e-10))
    ...     values, steps, residual = solve(linear_regression, (), args, kwargs, l1, {}, tol,
    ...                                     has_l1=True, max_steps=200)
    >>> lasso = map_estimate(linear_regression, X, y, prior=prior_from_penalty("laplace", 0.1, n_samples=30))
    >>> bool(np.array_equal(values["coef"], lasso.params["coef"])), int(steps) == lasso.num_steps
    (True, True)
    """
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


@program("map-given", static_argnames=_STATIC_ARGS, fast_compile=True)
def solve_given(model, static, args, kwargs, l1, init, tol, *, has_l1, max_steps):
    """`solve` of ``model`` with the sites in ``kwargs["given"]`` fixed to those values (the noise
    sd's round of a MAP with unknown σ: the weights given). Same arguments and returns.

    Examples
    --------
    Given the least-squares weights and a nearly flat prior on σ, the mode of σ is the root mean
    squared residual:

    >>> import jax, numpy as np, numpyro.distributions as dist
    >>> from bayesreg.engine.arrays import as_arrays, split_static
    >>> from bayesreg.engine.map import solve_given
    >>> from bayesreg.models import linear_regression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=30)
    >>> w = np.linalg.lstsq(np.column_stack([X, np.ones(30)]), y, rcond=None)[0]
    >>> given = {"coef": w[:3], "intercept": w[3]}
    >>> kwargs, static = split_static({"prior": None, "sigma": dist.Exponential(1e-9), "given": given})
    >>> with jax.enable_x64(True):
    ...     args, kwargs, l1, init, tol = as_arrays(((X, y), kwargs, 0.0, {"sigma": 1.0}, 1e-10))
    ...     values, steps, residual = solve_given(linear_regression, static, args, kwargs, l1, init, tol,
    ...                                           has_l1=False, max_steps=50)
    >>> rms = np.sqrt(np.mean((y - X @ w[:3] - w[3]) ** 2))
    >>> bool(np.isclose(values["sigma"], rms, rtol=1e-8)), sorted(values)
    (True, ['sigma'])
    """
    return solve.fun(_given(model), static, args, kwargs, l1, init, tol, has_l1=has_l1, max_steps=max_steps)


@program("map-grid", static_argnames=_STATIC_ARGS)
def solve_grid(model, static, args, kwargs, l1, init, tol, *, has_l1, max_steps):
    """`solve` at each grid point (the leading axis of ``kwargs`` and ``l1``), each one started
    from the solution at the one before (the first from ``init``); returns the values, step counts
    and residuals stacked along the grid.

    Compiled with XLA's default options: a grid is many solves, so run time counts.

    Examples
    --------
    The lasso at ``α = 0.3`` and ``0.1`` on 30 rows (Laplace rates ``λ₁ = nα``, σ = 1), the
    second started from the first's solution: scikit-learn's ``Lasso`` at each:

    >>> import jax, numpy as np
    >>> from sklearn.linear_model import Lasso
    >>> from bayesreg.engine.arrays import as_arrays
    >>> from bayesreg.engine.map import solve_grid
    >>> from bayesreg.models import linear_regression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=30)
    >>> init = {"coef": np.zeros(3), "intercept": 0.0}
    >>> with jax.enable_x64(True):
    ...     args, l1, init, tol = as_arrays(((X, y), 30 * np.array([0.3, 0.1]), init, 1e-10))
    ...     values, steps, residual = solve_grid(linear_regression, (), args, {"prior": None}, l1, init, tol,
    ...                                          has_l1=True, max_steps=200)
    >>> lasso = [Lasso(alpha=alpha, tol=1e-12).fit(X, y).coef_ for alpha in (0.3, 0.1)]
    >>> values["coef"].shape, bool(np.allclose(values["coef"], lasso, atol=1e-9))
    ((2, 3), True)
    """

    def one(start, point):
        values, k, residual = solve.fun(
            model, static, args, *point, start, tol, has_l1=has_l1, max_steps=max_steps
        )
        return {name: values[name] for name in start}, (values, k, residual)

    return lax.scan(one, init, (kwargs, l1))[1]


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
    `~bayesreg.engine.proximal.ProximalNewton` (exact zeros) and the rest by Newton steps.

    For `~bayesreg.models.poisson_regression` and
    `~bayesreg.models.negative_binomial_regression` (its dispersion fixed, or with a prior of
    positive support) with ``prior`` a `~bayesreg.priors.Prior` or None, the data as arrays and a
    flat intercept, the same minimum is found on the host by `bayesreg.engine.glm.glm_map` (the
    same proximal Newton steps with the weighted Gram from BLAS, nothing compiled; the dispersion
    and the weights in turn); where its residual stays above ``tol`` the compiled solver runs.

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

    Examples
    --------
    The MAP under the Laplace prior of scikit-learn's ``Lasso(alpha=0.1)`` is the lasso, exact zero
    included:

    >>> import numpy as np
    >>> from sklearn.linear_model import Lasso
    >>> from bayesreg.engine.map import map_estimate
    >>> from bayesreg.models import linear_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=30)
    >>> result = map_estimate(linear_regression, X, y, prior=prior_from_penalty("laplace", 0.1, n_samples=30))
    >>> lasso = Lasso(alpha=0.1, tol=1e-12).fit(X, y)
    >>> result.params["coef"].round(6), bool(np.allclose(result.params["coef"], lasso.coef_, atol=1e-9))
    (array([ 0.926659,  0.      , -1.902167]), True)
    """
    tol, max_steps = check_params({"tol": tol, "max_steps": max_steps}).values()
    host = _glm_host(model, args, prior, model_kwargs, init, tol, max_steps)
    if host is not None:
        return host
    with jax.enable_x64(True):
        # Python floats, NumPy and JAX numbers all become float64 arrays: one compiled solver
        args, init, model_kwargs = as_arrays((args, init or {}, model_kwargs))
        sigma = model_kwargs.get("sigma")
        if isinstance(sigma, dist.Distribution):
            return _alternate(model, args, prior, sigma, model_kwargs, init, tol, max_steps)
        return _fixed_noise(model, args, prior, model_kwargs, init, tol, max_steps)


@functools.cache
def _glm_families() -> dict:
    """The models `map_estimate` solves by `~bayesreg.engine.glm.glm_map`, with their family names
    (imported here: ``bayesreg.models`` imports the engine's neighbours). The logistic model stays
    on the compiled solver: its MAP starts the NUTS chains of fixed-seed tests, whose draws change
    with the last bits of the start."""
    from bayesreg.models import negative_binomial_regression, poisson_regression

    return {poisson_regression: "poisson", negative_binomial_regression: "negative_binomial"}


_GLM_KEYWORDS = {"offset", "fit_intercept", "intercept_prior", "dispersion"}


def _glm_host(model, args, prior, model_kwargs, init, tol, max_steps) -> MAPResult | None:
    """`map_estimate` of a Poisson or negative binomial model on the host
    (`~bayesreg.engine.glm.glm_map`), or None where it does not apply or its residual is above
    ``tol`` (the compiled solver then decides): a prior of `bayesreg.priors.Prior`, a flat
    intercept, the data as ``(X, y)`` arrays, the dispersion a number or a prior, nothing traced."""
    family = _glm_families().get(model)
    if family is None or len(args) != 2 or not set(model_kwargs) <= _GLM_KEYWORDS:
        return None
    if model_kwargs.get("intercept_prior") is not None or (prior is not None and type(prior) is not Prior):
        return None
    dispersion = model_kwargs.get("dispersion")
    if (family == "negative_binomial") == (dispersion is None):
        return None
    if isinstance(dispersion, dist.Distribution):
        support = dispersion.support  # ImproperUniform's comes wrapped as an independent constraint
        if dispersion.event_shape or getattr(support, "base_constraint", support) is not constraints.positive:
            return None
    leaves = jax.tree.leaves((args, prior, model_kwargs, init))
    if any(isinstance(leaf, jax.core.Tracer) for leaf in leaves):
        return None
    X, y = (np.asarray(a) for a in args)
    offset = model_kwargs.get("offset")
    offset_shape = np.shape(0.0 if offset is None else offset)
    if X.ndim != 2 or y.shape != X.shape[:1] or offset_shape not in ((), y.shape):
        return None
    l1, l2 = (0.0, 0.0) if prior is None else prior.rates(1.0)  # a noise-scaled prior uses σ = 1 here
    mode = glm_map(
        family,
        X,
        y,
        l1=0.0 if prior is None or prior.kind == "gaussian" else l1,
        l2=0.0 if prior is None or prior.kind == "laplace" else l2,
        offset=offset,
        dispersion=dispersion,
        fit_intercept=bool(model_kwargs.get("fit_intercept", True)),
        init=init,
        tol=tol,
        max_steps=max_steps,
    )
    if not mode.residual <= tol:
        return None
    return _result(mode.params, mode.num_steps, mode.residual, tol)


def _fixed_noise(model, args, prior, model_kwargs, init, tol, max_steps) -> MAPResult:
    return _result(*_weights(model, args, prior, model_kwargs, init, tol, max_steps), tol)


def _weights(model, args, prior, model_kwargs, init, tol, max_steps):
    """`solve` for the weights with the noise in ``model_kwargs`` fixed: its values, steps and
    residual as device arrays (not yet waited for)."""
    kwargs, static = split_static({**model_kwargs, "prior": _smooth(prior)})
    has_l1 = prior is not None and prior.kind != "gaussian"
    l1 = prior.rates(model_kwargs.get("sigma", 1.0))[0] if has_l1 else 0.0
    l1 = jnp.asarray(l1, dtype=float)
    return _run_solver(solve, model, static, args, kwargs, l1, init, tol, has_l1, max_steps)


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

    Examples
    --------
    Two lasso strengths, the second warm-started at the first's solution; each point is the MAP
    `map_estimate` finds alone:

    >>> import numpy as np
    >>> from bayesreg.engine.map import map_estimate, map_grid
    >>> from bayesreg.models import linear_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=30)
    >>> priors = [prior_from_penalty("laplace", alpha, n_samples=30) for alpha in (0.3, 0.1)]
    >>> init = {"coef": np.zeros(3), "intercept": 0.0}
    >>> results = map_grid(linear_regression, X, y, priors=priors, init=init)
    >>> alone = map_estimate(linear_regression, X, y, prior=priors[1]).params["coef"]
    >>> [r.converged for r in results], bool(np.allclose(results[1].params["coef"], alone, atol=1e-9))
    ([True, True], True)
    """
    tol, max_steps = check_params({"tol": tol, "max_steps": max_steps}).values()
    with jax.enable_x64(True):
        args, init, model_kwargs = as_arrays((args, init, model_kwargs))
        has_l1 = priors[0].kind != "gaussian"
        sigma = model_kwargs.get("sigma", 1.0)
        split = [split_static({**model_kwargs, "prior": _smooth(prior)}) for prior in priors]
        if len({(prior.kind, prior.noise_scaled) for prior in priors}) > 1:
            raise ValueError("map_grid: the priors must all be of one kind (only their strengths vary)")
        kwargs = jax.tree.map(lambda *leaves: jnp.stack(leaves), *(dynamic for dynamic, _ in split))
        l1 = jnp.asarray([prior.rates(sigma)[0] if has_l1 else 0.0 for prior in priors], dtype=float)
        tol_array = as_arrays(tol)
        values, k, residual = solve_grid(
            model, split[0][1], args, kwargs, l1, init, tol_array, has_l1=has_l1, max_steps=max_steps
        )
        values, k, residual = jax.device_get((values, k, residual))
    return [
        _result({name: v[i] for name, v in values.items()}, k[i], residual[i], tol)
        for i in range(len(priors))
    ]


def linear_map(
    stats,
    *,
    prior: Prior | None,
    sigma=1.0,
    fit_intercept: bool = True,
    tol: float = 1e-10,
    max_steps: int = 200,
) -> MAPResult:
    """MAP of ``linear_regression_stats(stats, prior=prior, sigma=sigma, fit_intercept=...)`` on the host.

    The MAP `map_estimate` finds for that model, computed without compiling anything: the negative
    log joint is quadratic in the weights, so with the intercept profiled out (``b = ȳ − x̄'w``,
    exact) and σ fixed, the weights minimise

    .. math::

        \\tfrac12 w^\\top H w - c^\\top w + σ^2 λ_1(σ) \\lVert w \\rVert_1
        + \\tfrac{σ^2 λ_2(σ)}{2} \\lVert w \\rVert^2

    (``H = XcᵀXc``, ``c = Xcᵀyc``): one Cholesky solve without L1 weights (ridge), else
    coordinate descent on ``H`` polished on the support it finds
    (`~bayesreg.engine.proximal.minimise_quadratic_l1`: a proximal Newton step, whose quadratic
    model is exact here; a further step only continues the sweeps, where 500 did not certify the
    support, as for p > n near the interpolating end of the lasso). With ``sigma`` an
    ``Exponential(rate)`` prior, σ given the weights minimises ``m log σ + A/(2σ²) + rate·σ``,
    whose stationary point is the positive root of ``rate·σ³ + m·σ² − A`` (``m = n``,
    ``A = RSS``, plus ``2p`` and ``2λ₁‖w‖₁`` for a noise-scaled Laplace prior, ``p`` and
    ``λ₂‖w‖²`` for a noise-scaled Gaussian one), found by
    Newton's method from ``√(A/m)``, above it. A noise-scaled prior (scikit-learn's conventions)
    makes the weights independent of σ, so one round settles both; otherwise the rounds alternate
    until σ changes by less than ``1e-10`` relative, as in `map_estimate`.

    Elastic-net priors with σ estimated (their normaliser depends on σ through ``erfcx``), other
    noise priors, priors with a rate per weight, a result whose optimality residual is above ``tol``
    (a singular ``H``, say), and traced inputs (a caller inside a jitted function) go to
    `map_estimate` instead.

    Parameters
    ----------
    stats : SufficientStats
        The data's statistics (`bayesreg.models.SufficientStats`).
    prior : Prior or None
        Prior on ``coef`` (``None``: flat).
    sigma : float or numpyro Exponential
        The noise sd, or its prior.
    fit_intercept : bool
        Whether the model has an (unpenalised, flat) intercept.
    tol, max_steps
        As for `map_estimate`: the optimality residual relative to the one at 0, and the most steps.

    Returns
    -------
    MAPResult
        ``params`` as `map_estimate` returns them; ``num_steps`` counts the proximal Newton (or
        Newton) steps of each weights round and each Newton step on σ; ``residual`` is the
        weights' optimality residual relative to the one at 0 (the larger of it and σ's relative
        stationarity residual when σ is estimated).

    Examples
    --------
    scikit-learn's ``Lasso(alpha=0.1)`` with σ estimated (the estimators' default): the same MAP
    as `map_estimate` finds, without a compiled program:

    >>> import numpy as np
    >>> import numpyro.distributions as dist
    >>> from bayesreg.engine.map import linear_map, map_estimate
    >>> from bayesreg.models import SufficientStats, linear_regression_stats
    >>> from bayesreg.priors import prior_from_penalty
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=30)
    >>> stats = SufficientStats.from_data(X, y)
    >>> prior, noise = prior_from_penalty("laplace", 0.1, n_samples=30), dist.Exponential(1.0)
    >>> host = linear_map(stats, prior=prior, sigma=noise)
    >>> compiled = map_estimate(linear_regression_stats, stats, prior=prior, sigma=noise)
    >>> host.params["coef"].round(6), host.converged
    (array([ 0.926659,  0.      , -1.902167]), True)
    >>> all(np.allclose(host.params[k], compiled.params[k], rtol=1e-9, atol=1e-12) for k in compiled.params)
    True
    """
    tol, max_steps = check_params({"tol": tol, "max_steps": max_steps}).values()
    estimated = isinstance(sigma, dist.Distribution)
    leaves = jax.tree.leaves((stats, prior, sigma))
    host = not any(isinstance(leaf, jax.core.Tracer) for leaf in leaves)
    host &= prior is None or np.ndim(prior.l1) == np.ndim(prior.l2) == 0  # one rate for all weights
    if estimated:
        host &= type(sigma) is dist.Exponential and (prior is None or prior.kind != "elasticnet")
    result = _linear_map_host(stats, prior, sigma, fit_intercept, tol, max_steps) if host else None
    if result is None:
        from bayesreg.models import linear_regression_stats

        return map_estimate(
            linear_regression_stats,
            stats,
            prior=prior,
            sigma=sigma,
            fit_intercept=fit_intercept,
            tol=tol,
            max_steps=max_steps,
        )
    return _result(*result, tol)


def _linear_map_host(stats, prior, sigma, fit_intercept, tol, max_steps):
    """`linear_map`'s host computation: ``(params, num_steps, residual)``, or None where its result
    is not certified (the caller then runs `map_estimate`)."""
    n, x_mean, y_mean, xtx, xty, yty = (np.asarray(a, dtype=float) for a in stats)
    p = xty.shape[0]
    if fit_intercept:  # the intercept profiled out: b = ȳ − x̄'w
        H, c, total = xtx, xty, yty
    else:  # the centred statistics' offset term n(ȳ − x̄'w)² is part of the quadratic
        H, c, total = xtx + n * np.outer(x_mean, x_mean), xty + n * y_mean * x_mean, yty + n * y_mean**2
    estimated = isinstance(sigma, dist.Distribution)
    s = 1.0 if estimated else float(sigma)
    L1, L2 = (0.0, 0.0) if prior is None else (float(prior.l1), float(prior.l2))
    scaled = prior is None or prior.noise_scaled  # the weights' problem does not depend on σ

    def weights(s, start):
        """The weights given σ = s, from ``start``: ``(w, residual, steps)``, or None when
        ``max_steps`` proximal Newton (or Newton) steps do not reach ``tol``."""
        factor = 1.0 if scaled else s * s
        l1 = np.full(p, L1 * factor if prior is not None and prior.kind != "gaussian" else 0.0)
        Hs = H + (L2 * factor) * np.eye(p)
        rtol, w = 8 * np.finfo(float).eps, start
        scale = kkt_residual(np.zeros(p), -c, l1, rtol=rtol)
        for k in range(1, max_steps + 1):  # the model is exact: more steps only continue the sweeps
            gradient = Hs @ w - c
            if k == 1:
                scale = max(scale, kkt_residual(w, gradient, l1, rtol=rtol), np.finfo(float).tiny)
            if l1.any():
                w, _ = minimise_quadratic_l1(gradient, Hs, l1, w)
            else:
                try:  # Cholesky, without scipy.linalg.solve's condition estimate and its warning
                    w = w - scipy.linalg.cho_solve(scipy.linalg.cho_factor(Hs), gradient)
                except np.linalg.LinAlgError:  # not positive definite: map_estimate decides
                    return None
            residual = float(kkt_residual(w, Hs @ w - c, l1, rtol=rtol) / scale)
            if residual <= tol:
                return w, residual, k
        return None

    w, steps, residual = np.zeros(p), 0, 0.0
    for _ in range(100 if estimated else 1):
        found = weights(s, w)
        if found is None:
            return None
        w, residual, k = found
        steps += k
        if not estimated:
            break
        new, k, sigma_residual = _noise_sd(sigma.rate, n, p, prior, w, H, c, total)
        if new is None:
            return None
        steps += k
        settled = abs(new - s) <= 1e-10 * new
        s = new
        if settled or scaled:
            residual = max(residual, sigma_residual)
            break
    params = {"coef": w}
    if fit_intercept:
        params["intercept"] = np.asarray(y_mean - x_mean @ w)
    if estimated:
        params["sigma"] = np.asarray(s)
    return params, steps, residual


def _noise_sd(rate, n, p, prior, w, H, c, total):
    """The mode of σ given the weights (see `linear_map`): ``(σ, Newton steps, relative residual)``,
    or None when there is none (a perfect fit)."""
    rate = float(np.asarray(rate))
    rss = total - 2.0 * c @ w + w @ H @ w
    m, A = float(n), float(rss)
    if prior is not None and prior.noise_scaled and prior.kind == "laplace":
        m, A = m + 2 * p, A + 2.0 * float(prior.l1) * np.abs(w).sum()
    elif prior is not None and prior.noise_scaled:
        m, A = m + p, A + float(prior.l2) * (w @ w)
    if not (A > 0 and np.isfinite(A)):
        return None, 0, np.inf
    s, k = np.sqrt(A / m), 0  # the root without the prior's rate: the cubic is convex and ≥ 0 there
    while k < 100:
        new = s - (rate * s**3 + m * s**2 - A) / (3 * rate * s**2 + 2 * m * s)
        k += 1
        if not new < s:  # Newton from above decreases monotonically until round-off stops it
            break
        s = new
    return s, k, abs(m - A / s**2 + rate * s) / (m + A / s**2 + rate * s)


def _alternate(model, args, prior, sigma_prior, model_kwargs, init, tol, max_steps) -> MAPResult:
    sigma = jnp.asarray(init.pop("sigma", 1.0), dtype=float)
    # Every weight site in the start from the first round on, so that each round starts from the
    # round before with the same init structure: one compiled program for all rounds. Warm-started,
    # a round whose weights do not move with σ (a noise-scaled prior: Lasso, Ridge, ElasticNet)
    # takes one proximal Newton step that only confirms the optimum. The rounds' values stay on the
    # device; each round waits for its results once, to decide whether σ has settled.
    start = {**_latent_zeros(model, args, {**model_kwargs, "prior": _smooth(prior), "sigma": sigma}), **init}
    total = 0
    for _ in range(100):
        values, k_weights, residual_weights = _weights(
            model, args, prior, {**model_kwargs, "sigma": sigma}, start, tol, max_steps
        )
        kwargs, static = split_static({**model_kwargs, "prior": prior, "sigma": sigma_prior, "given": values})
        found, k, residual = _run_solver(
            solve_given, model, static, args, kwargs, jnp.zeros(()), {"sigma": sigma}, tol, False, max_steps
        )
        # on the host: an operation on device arrays here would be one more compilation in a new process
        k_weights, k, new_sigma, old_sigma = jax.device_get((k_weights, k, found["sigma"], sigma))
        total += int(k_weights) + int(k)
        sigma = found["sigma"]
        start = {name: values[name] for name in start}
        if abs(float(new_sigma) - float(old_sigma)) <= 1e-10 * float(new_sigma):
            break
    residual_weights, residual = (float(r) for r in jax.device_get((residual_weights, residual)))
    converged = residual_weights <= tol  # the last round's weights (σ's round is judged by its residual)
    return _result({**values, "sigma": sigma}, total, max(residual_weights, residual), tol, converged)


def _latent_zeros(model, args, model_kwargs) -> dict:
    """The latent sample sites of ``model(*args, **model_kwargs)`` at the solver's default start
    (the unconstrained origin), by name, as NumPy arrays.

    The model is traced abstractly (``jax.eval_shape``): run eagerly, each of its operations would
    be compiled on its own in a new process. Sites with real support start at 0; others (rare
    here: the weights of bayesreg's models are real) get their transform of 0 computed eagerly.
    """
    supports = {}

    def sites():
        start = handlers.substitute(handlers.seed(model, 0), substitute_fn=_init_to(values={}))
        with handlers.block():
            trace = handlers.trace(start).get_trace(*args, **model_kwargs)
        latent = {n: s for n, s in trace.items() if s["type"] == "sample" and not s["is_observed"]}
        supports.update((name, site["fn"].support) for name, site in latent.items())
        return {name: site["value"] for name, site in latent.items()}

    shapes = jax.eval_shape(sites)
    zeros = {name: np.zeros(shape.shape, shape.dtype) for name, shape in shapes.items()}
    return {
        name: value
        if supports[name] in (constraints.real, constraints.real_vector)
        else np.asarray(biject_to(supports[name])(value))
        for name, value in zeros.items()
    }


def _run_solver(solver, model, static, args, kwargs, l1, init, tol, has_l1, max_steps):
    """``solver`` (`solve` or `solve_given`) with every numeric argument a float64 array (a prior's
    Python floats too): one compiled program, and one exported program on the command line."""
    arrays = as_arrays((args, kwargs, l1, init, tol))
    return solver(model, static, *arrays, has_l1=has_l1, max_steps=max_steps)


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
