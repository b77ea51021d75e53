"""A proximal Newton optimiser for SVI with a point-mass (AutoDelta) guide.

`ProximalNewton` minimises ``f(x) + Σᵢ λᵢ|xᵢ|`` where ``f`` is the SVI loss (a smooth negative log
joint) and the weighted L1 term is the Laplace part of the prior, handled through its proximal
operator instead of its (non-existent) gradient at 0. It plugs into ``numpyro.infer.SVI`` like
``numpyro.optim.Minimize``: one ``SVI.update`` is one step

1. quadratic model ``q(z) = ∇f(x)'(z − x) + ½ (z − x)'∇²f(x)(z − x) + Σ λᵢ|zᵢ|``;
2. minimise ``q`` by cyclic coordinate descent (soft thresholding, which lands on exact zeros), then
   polish: solve the stationarity equations of ``q`` on the support found, keeping the result when
   signs and the optimality conditions off the support hold (coordinate descent runs loose first
   and is tightened only while the polish fails);
3. backtracking line search on ``f + Σ λᵢ|xᵢ|`` (Armijo, Lee, Sun & Saunders 2014).

For a Gaussian likelihood ``f`` is quadratic, so the first step lands on the penalised optimum to
round-off; for a logistic likelihood convergence is quadratic near the optimum. Without L1 weights
the step is Newton's (a linear solve).

The optimality residual ``max_i |∂ᵢ|`` of the minimum-norm subgradient at the new point is kept in
the state (`residual`) so the caller can stop on it, with a scale to judge it by (`scale`): the larger
of the residuals at the first point and, as the first quadratic model predicts it, at the cold start
``0`` (the unconstrained origin).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.flatten_util import ravel_pytree
from jax.tree_util import register_pytree_node
from numpyro.optim import _NumPyroOptim

__all__ = ["ProximalNewton", "kkt_residual", "minimise_quadratic_l1", "soft_threshold"]


class _ProxState(NamedTuple):
    flat_params: jax.Array
    flat_l1: jax.Array
    residual: jax.Array
    scale: jax.Array
    unravel_fn: object


register_pytree_node(
    _ProxState,
    lambda s: ((s.flat_params, s.flat_l1, s.residual, s.scale), (s.unravel_fn,)),
    lambda aux, xs: _ProxState(*xs, aux[0]),
)


def soft_threshold(x, threshold):
    """``sign(x) · max(|x| − threshold, 0)``: the proximal operator of ``threshold·|x|``.

    Examples
    --------
    Values within the threshold of 0 land on exactly 0; the others move towards 0 by the threshold:

    >>> import numpy as np
    >>> from bayesreg.engine.proximal import soft_threshold
    >>> np.asarray(soft_threshold(np.array([-3.0, -0.5, 0.0, 0.5, 3.0]), 1.0))
    array([-2.,  0.,  0.,  0.,  2.])
    """
    xp = _array_module(x, threshold)
    shrunk = xp.abs(x) - threshold
    return xp.where(shrunk > 0, xp.sign(x) * shrunk, 0.0)  # +0.0, never -0.0


def _array_module(*arrays):
    """``jax.numpy`` if any argument is a JAX array or tracer, else NumPy: a host computation on
    NumPy values stays on the host, with nothing to compile."""
    return jnp if any(isinstance(a, jax.Array) for a in arrays) else np


def kkt_residual(x, grad, l1, *, rtol=0.0):
    """Largest entry of the minimum-norm subgradient of ``f(x) + Σ l1ᵢ|xᵢ|`` (0 at the optimum).

    Entries no larger than ``rtol · (|gradᵢ| + l1ᵢ)`` count as 0: with ``rtol`` a few machine
    epsilons, that is the round-off in computing them.

    Examples
    --------
    For ``f(x) = ½(x − 3)²`` and ``l1 = 1`` the minimiser is ``x = 2`` (gradient −1, cancelled by the
    subgradient +1 of ``|x|``); at ``x = 0`` the gradient −3 exceeds the subdifferential ``[−1, 1]``
    by 2:

    >>> import numpy as np
    >>> from bayesreg.engine.proximal import kkt_residual
    >>> float(kkt_residual(np.array([2.0]), np.array([-1.0]), np.array([1.0])))
    0.0
    >>> float(kkt_residual(np.array([0.0]), np.array([-3.0]), np.array([1.0])))
    2.0
    """
    xp = _array_module(x, grad, l1)
    at_zero = xp.maximum(xp.abs(grad) - l1, 0.0)
    off_zero = xp.abs(grad + l1 * xp.sign(x))
    entries = xp.where(x == 0, at_zero, off_zero)
    entries = xp.where(entries <= rtol * (xp.abs(grad) + l1), 0.0, entries)
    return xp.max(entries, initial=0.0)


def _sweep(z, r, H, l1, diag, scale):
    """One cyclic coordinate-descent sweep on ``q(z) = g'(z−x) + ½(z−x)'H(z−x) + Σ l1ᵢ|zᵢ|`` from
    ``z``, where ``r = g + H(z − x)`` is the gradient of the smooth part at ``z``; returns the new
    ``z, r`` and the largest move ``|Δzᵢ|·√Hᵢᵢ``."""

    def coordinate(i, carry):
        z, r, change = carry
        zi = soft_threshold(z[i] - r[i] / diag[i], l1[i] / diag[i])
        step = zi - z[i]
        # row i of the symmetric H: contiguous, where column i is strided
        return z.at[i].set(zi), r + H[i] * step, jnp.maximum(change, jnp.abs(step) * scale[i])

    # unrolled by 4: a quarter of the loop overhead, which dominates at p in the hundreds
    return lax.fori_loop(0, z.shape[0], coordinate, (z, r, jnp.zeros((), z.dtype)), unroll=4)


def _polish(z, x, g, H, l1):
    """Solve the quadratic model's stationarity equations on the support of ``z``.

    Returns the solution if its signs agree with ``z``'s and its optimality residual is no larger
    (else ``z``), and whether it is the minimiser of the model: every zero strictly inside its
    subdifferential, up to round-off.
    """
    free = (z != 0) | (l1 == 0)
    sign = jnp.sign(z)
    both = free[:, None] & free[None, :]
    A = jnp.where(both, H, 0.0) + jnp.diag(jnp.where(free, 0.0, 1.0))
    b = jnp.where(free, H @ x - g - l1 * sign, 0.0)
    z_new = jnp.linalg.solve(A, b)
    r = g + H @ (z_new - x)
    ok = jnp.all(jnp.isfinite(z_new))
    ok &= jnp.all(jnp.where(free & (l1 > 0), jnp.sign(z_new) == sign, True))
    exact = ok & (kkt_residual(z_new, r, l1, rtol=1e-10) == 0)
    ok &= kkt_residual(z_new, r, l1) <= kkt_residual(z, g + H @ (z - x), l1)
    return jnp.where(ok, z_new, z), exact


def _quadratic_l1(x, g, H, l1, *, max_sweeps, tol):
    """Minimise the quadratic model ``q`` (see `_sweep`) by coordinate descent from ``x`` and
    `_polish` on the support it finds.

    The polish needs only the right support and signs, which coordinate descent usually has long
    before its values converge, so it is tried (a) after a sweep that left every sign unchanged,
    and (b) when a sweep moves nothing by more than the current tolerance ``t`` (1e-4 first, then
    100 times tighter after each such attempt that was not the minimiser, down to ``tol``); never
    twice on the same signs, which would give the same answer, except after the last sweep (at
    ``tol``, or the last of ``max_sweeps``), which is always polished. The loop ends at the first
    polish that is the model's minimiser, after the attempt at ``tol``, or after ``max_sweeps``
    sweeps; without a minimiser the result is the polish of the last sweep's point (that point
    itself when the polish does not improve on it). On the 200-feature AR(1) lasso of
    ``benchmarks/bench_map.py`` the signs settle after 6 sweeps, where the tolerance 1e-4 alone
    took 15.
    """
    diag = jnp.maximum(jnp.diag(H), jnp.finfo(H.dtype).tiny)
    scale = jnp.sqrt(diag)

    def go_on(carry):
        *_, t, exact, _, k = carry
        return ~exact & (t >= tol) & (k < max_sweeps)

    def body(carry):
        z, r, polished, t, exact, tried, k = carry
        before = jnp.sign(z)
        z, r, change = _sweep(z, r, H, l1, diag, scale)
        signs = jnp.sign(z)
        converged = change <= t
        attempt = (converged | jnp.all(signs == before)) & jnp.any(signs != tried)
        # the last sweep (at ``tol``, or the last one allowed) is always polished, so that without a
        # minimiser the result is the polish of where coordinate descent ended
        attempt |= (converged & (t <= tol)) | (k + 1 >= max_sweeps)
        polished, exact, tried = lax.cond(
            attempt,
            lambda: (*_polish(z, x, g, H, l1), signs),
            lambda: (polished, exact, tried),
        )
        # after the attempt at ``tol`` itself, t < tol ends the loop
        t = jnp.where(converged & ~exact, jnp.where(t > tol, jnp.maximum(t / 100, tol), t / 100), t)
        return z, r, polished, t, exact, tried, k + 1

    first = jnp.maximum(jnp.asarray(1e-4, x.dtype), tol)
    never = jnp.full_like(x, 2.0)  # no sign pattern tried yet (signs are -1, 0, 1)
    start = (x, g, x, first, jnp.asarray(False), never, jnp.asarray(0))
    return lax.while_loop(go_on, body, start)[2]


def minimise_quadratic_l1(g, H, l1, x=None, *, tol=1e-9, max_sweeps=500):
    """Minimise ``q(z) = g'(z−x) + ½(z−x)'H(z−x) + Σ l1ᵢ|zᵢ|`` on the host (NumPy, nothing compiled).

    The same algorithm as one sub-problem of `ProximalNewton`: cyclic coordinate descent from
    ``x`` (soft thresholding, so zeros are exact), and the stationarity equations of ``q`` solved
    on the support it has found (the polish) as soon as a sweep leaves the signs unchanged, or moves
    nothing by more than the current tolerance on ``max_i |Δzᵢ|·√Hᵢᵢ`` (1e-4 first, 100 times
    tighter after each polish that was not the minimiser, down to ``tol``); the last sweep is
    always polished. For ``p`` in the hundreds a sweep is a fraction of a millisecond and the polish
    one LAPACK solve, which for a Gaussian likelihood (``q`` exact) makes the MAP a host
    computation: `bayesreg.engine.map.linear_map`.

    Parameters
    ----------
    g : ndarray, shape (p,)
        Gradient of the smooth part at ``x``.
    H : ndarray, shape (p, p)
        Its Hessian (symmetric positive semi-definite).
    l1 : ndarray, shape (p,)
        L1 weights (0: no L1 term on that coordinate).
    x : ndarray, shape (p,), optional
        Where ``g`` is taken and coordinate descent starts (zeros by default).
    tol : float
        Tightest coordinate-descent tolerance.
    max_sweeps : int
        Most sweeps.

    Returns
    -------
    z : ndarray, shape (p,)
        The polish of the first sweep that gave the minimiser; otherwise that of the last sweep
        (or that sweep's point, if its polish was no better).
    exact : bool
        Whether ``z`` is the minimiser up to round-off: the signs of the support agree, and every
        optimality condition holds to ``1e-10`` of the terms it is computed from.

    Examples
    --------
    ``H = I`` makes ``q`` separable: its minimiser is ``soft_threshold(x − g, l1)``, exact zero
    included:

    >>> import numpy as np
    >>> from bayesreg.engine.proximal import minimise_quadratic_l1
    >>> z, exact = minimise_quadratic_l1(np.array([-3.0, 0.5, 2.0]), np.eye(3), np.ones(3))
    >>> z, exact
    (array([ 2.,  0., -1.]), True)
    """
    g, H, l1 = (np.asarray(a, dtype=float) for a in (g, H, l1))
    x = np.zeros_like(g) if x is None else np.asarray(x, dtype=float)
    diag = np.maximum(np.diag(H), np.finfo(float).tiny)
    z, r = x.copy(), g.copy()  # r: the gradient of the smooth part of q at z
    t = max(1e-4, tol)
    polished, exact, tried = x, False, None
    for k in range(max_sweeps):
        before = np.sign(z)
        change = _sweep_host(z, r, H, l1, diag)
        signs = np.sign(z)
        converged = change <= t
        attempt = (converged or np.array_equal(signs, before)) and (
            tried is None or not np.array_equal(signs, tried)
        )
        attempt |= (converged and t <= tol) or k + 1 >= max_sweeps
        if attempt:
            polished, exact = _polish_host(z, x, g, H, l1)
            tried = signs
        if exact or (converged and t <= tol):
            break
        if converged:
            t = max(t / 100, tol)
    return polished, exact


def _sweep_host(z, r, H, l1, diag) -> float:
    """`_sweep` on the host, updating ``z`` and ``r`` in place; returns the largest move
    ``|Δzᵢ|·√Hᵢᵢ``. Python floats per coordinate, one NumPy row update per move."""
    change = 0.0
    for i, (d, lam) in enumerate(zip(diag.tolist(), l1.tolist(), strict=True)):
        old = float(z[i])
        u, threshold = old - float(r[i]) / d, lam / d
        new = u - threshold if u > threshold else u + threshold if u < -threshold else 0.0
        if new != old:
            r += H[i] * (new - old)
            z[i] = new
            change = max(change, abs(new - old) * d**0.5)
    return change


def _polish_host(z, x, g, H, l1):
    """`_polish` on the host: the stationarity equations of ``q`` on the support of ``z``."""
    free = (z != 0) | (l1 == 0)
    sign = np.sign(z)
    z_new = np.zeros_like(z)
    try:
        z_new[free] = np.linalg.solve(H[np.ix_(free, free)], (H @ x - g - l1 * sign)[free])
    except np.linalg.LinAlgError:
        return z, False
    r = g + H @ (z_new - x)
    ok = bool(np.all(np.isfinite(z_new))) and bool(
        np.all(np.sign(z_new)[free & (l1 > 0)] == sign[free & (l1 > 0)])
    )
    exact = ok and bool(kkt_residual(z_new, r, l1, rtol=1e-10) == 0)
    ok = ok and bool(kkt_residual(z_new, r, l1) <= kkt_residual(z, g + H @ (z - x), l1))
    return (z_new if ok else z), exact


class ProximalNewton(_NumPyroOptim):
    """Proximal Newton steps on ``loss + Σ l1·|param|``, for ``numpyro.infer.SVI``.

    Parameters
    ----------
    l1 : dict of str to array, optional
        L1 weights ``λ`` per parameter name (for an AutoDelta guide, ``"coef_auto_loc"``), each
        broadcastable to the parameter's shape; parameters not named have none. Without any, every
        step is a damped Newton step.
    max_sweeps : int
        Coordinate-descent sweeps allowed per step for the quadratic sub-problem.
    sweep_tol : float
        Tightest sub-problem tolerance on ``max_i |Δzᵢ|·√Hᵢᵢ``. The polish solves for the values
        exactly on the support coordinate descent has found, as soon as a sweep leaves the signs
        unchanged or moves nothing by more than 1e-4; while it is not the sub-problem's
        minimiser (wrong support or signs) coordinate descent goes on, its tolerance 100 times
        tighter after each attempt at it, down to ``sweep_tol``.

    Notes
    -----
    The Hessian is formed densely (``jax.hessian``), so this suits models with up to a few
    thousand parameters. The loss must be deterministic (a Delta guide): as with
    ``numpyro.optim.Minimize``.

    Examples
    --------
    One step on ``½‖w − c‖² + ‖w‖₁``, whose minimiser is ``soft_threshold(c, 1)``: the quadratic
    model is exact, so the step lands on it, exact zero included, with optimality residual 0
    (`~bayesreg.engine.map.map_estimate` runs these steps inside ``numpyro.infer.SVI``):

    >>> import jax, numpy as np
    >>> from bayesreg.engine.proximal import ProximalNewton
    >>> c = np.array([3.0, 0.5, -2.0])
    >>> def loss(params):  # the loss and an auxiliary value, as SVI's loss function returns them
    ...     return 0.5 * ((params["w"] - c) ** 2).sum(), None
    >>> optim = ProximalNewton({"w": 1.0})
    >>> step = jax.jit(lambda state: optim.eval_and_update(loss, state))
    >>> with jax.enable_x64(True):
    ...     _, state = step(optim.init({"w": np.zeros(3)}))
    >>> np.asarray(optim.get_params(state)["w"]), float(state[1].residual)
    (array([ 2.,  0., -1.]), 0.0)
    """

    def __init__(self, l1: dict | None = None, *, max_sweeps: int = 500, sweep_tol: float = 1e-9):
        self.l1 = dict(l1 or {})
        self.max_sweeps = max_sweeps
        self.sweep_tol = sweep_tol

        def init_fn(params):
            flat, unravel = ravel_pytree(params)
            weights = {
                k: jnp.broadcast_to(self.l1.get(k, 0.0), jnp.shape(v)).astype(flat.dtype)
                for k, v in params.items()
            }
            flat_l1 = ravel_pytree(weights)[0]
            tiny = jnp.finfo(flat.dtype).tiny
            return _ProxState(flat, flat_l1, jnp.asarray(jnp.inf, flat.dtype), jnp.asarray(tiny), unravel)

        super().__init__(lambda: (init_fn, lambda i, g, s: s, lambda s: s.unravel_fn(s.flat_params)))

    def eval_and_update(self, fn, state, forward_mode_differentiation: bool = False):
        """One proximal Newton step on ``fn`` (the SVI loss); see the module docstring."""
        i, s = state
        x, l1 = s.flat_params, s.flat_l1

        def smooth(z):
            return fn(s.unravel_fn(z))[0]

        def gradient(z):
            value, g = jax.value_and_grad(smooth)(z)
            return g, (value, g)

        # one forward-over-reverse pass gives the Hessian, with the value and gradient as its primal
        H, (value, g) = jax.jacfwd(gradient, has_aux=True)(x)
        # residuals at the round-off level of the gradient are 0: at α_max, say, 0 is optimal and
        # |g| = λ up to round-off
        rtol = 8 * jnp.finfo(x.dtype).eps
        residual = start_residual = kkt_residual(x, g, l1, rtol=rtol)
        if self.l1:
            z = _quadratic_l1(x, g, H, l1, max_sweeps=self.max_sweeps, tol=self.sweep_tol)
        else:
            z = x - jnp.linalg.solve(H, g)
        decrease = g @ (z - x) + l1 @ (jnp.abs(z) - jnp.abs(x))
        # Not a descent direction (an indefinite Hessian): take a proximal gradient step instead.
        fallback = ~(jnp.isfinite(decrease) & (decrease < 0))
        step = 1.0 / jnp.maximum(jnp.max(jnp.abs(jnp.diag(H))), 1e-12)
        z = jnp.where(fallback, soft_threshold(x - step * g, step * l1), z)
        d = z - x
        decrease = g @ d + l1 @ (jnp.abs(z) - jnp.abs(x))
        start = value + l1 @ jnp.abs(x)
        slack = 16 * jnp.finfo(x.dtype).eps * jnp.abs(start)  # round-off in evaluating f

        def point(t):  # a full step keeps z itself, so its exact zeros survive the arithmetic
            return jnp.where(t == 1.0, z, x + t * d)

        def too_long(carry):
            t, value_t, _ = carry  # a NaN value (outside the model's domain) counts as too long
            enough = value_t + l1 @ jnp.abs(point(t)) <= start + 1e-4 * t * decrease + slack
            return ~enough & (t > 1e-12)

        def halve(carry):  # value and gradient at each trial point: the accepted one's are reused
            t = 0.5 * carry[0]
            return t, *jax.value_and_grad(smooth)(point(t))

        # from t = 2 with an infinite value, so that the first trial (t = 1) happens in the loop
        t, _, g_new = lax.while_loop(
            too_long, halve, (jnp.asarray(2.0, x.dtype), jnp.asarray(jnp.inf, x.dtype), g)
        )
        moved = (residual > 0) & (decrease < 0) & (t > 1e-12)
        new_x = jnp.where(moved, point(t), x)
        # the residual of the new point, so the caller stops right after the step that converged
        # instead of taking a full step to find out
        residual = jnp.where(moved, kkt_residual(new_x, g_new, l1, rtol=rtol), residual)
        # The scale: at the first step, the residual there or, if larger, the one at the cold start
        # 0 as the quadratic model predicts it (exact for a Gaussian likelihood), since a warm start
        # at the optimum has residual 0.
        at_origin = kkt_residual(jnp.zeros_like(x), g - H @ x, l1, rtol=rtol)
        scale = jnp.where(i == 0, jnp.maximum(s.scale, jnp.maximum(start_residual, at_origin)), s.scale)
        return (value, None), (i + 1, s._replace(flat_params=new_x, residual=residual, scale=scale))
