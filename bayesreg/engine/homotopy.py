"""The lasso path by homotopy: the exact MAP at every point of a grid, from one breakpoint to the next.

For the linear model with a Gaussian likelihood, a fixed noise sd σ and a Laplace prior, the negative
log joint with the intercept profiled out (centred statistics) is, up to a constant,

.. math::

    f_λ(w) = \\tfrac12 w^\\top H w - b^\\top w + λ \\lVert w \\rVert_1,
    \\qquad H = X_c^\\top X_c / σ^2, \\quad b = X_c^\\top y_c / σ^2,

and its minimiser is piecewise linear in ``λ``: with the active set ``A`` (the non-zero weights) and
their signs ``s``, ``w_A(λ) = H_AA⁻¹ (b_A − λ s_A)``, until the correlation ``c_j = (b − Hw)_j`` of a
zero weight reaches ``±λ`` (it becomes non-zero) or a non-zero weight reaches 0 (it becomes zero).
`lasso_path` follows that path down a decreasing grid (LARS with the lasso modification: Osborne,
Presnell & Turlach 2000; Efron, Hastie, Johnstone & Tibshirani 2004), keeping ``H_AA⁻¹`` up to date
with one rank-one term per breakpoint (O(p²)), so the whole grid costs a few matrix-vector products
per breakpoint and per grid point, in one compiled loop. Each grid point is polished by one step of
iterative refinement and its optimality residual returned, so that a caller can check it.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from bayesreg.engine.programs import program
from bayesreg.engine.proximal import kkt_residual

__all__ = ["follow", "lasso_path"]

_INT = jnp.int32


class _State(NamedTuple):
    lam: jax.Array  # () the path is at its solution for this λ
    active: jax.Array  # (p,) bool
    sign: jax.Array  # (p,) ±1 on the active set, 0 elsewhere
    inverse: jax.Array  # (p, p) H_AA⁻¹ on A × A, 0 elsewhere
    point: jax.Array  # () index of the next grid point
    since: jax.Array  # () breakpoints passed since the last grid point
    events: jax.Array  # () breakpoints passed in all
    last: jax.Array  # () the weight of the last breakpoint (-1: none), sitting on a boundary
    blocked: jax.Array  # () the event that boundary would give at once: 0 up, 1 down, 2 leave
    coefs: jax.Array  # (n_points, p)
    steps: jax.Array  # (n_points,) breakpoints between a grid point and the one before
    singular: jax.Array  # () bool: H_AA stopped being positive definite
    w: jax.Array  # (p,) the weights at λ
    c: jax.Array  # (p,) their correlations b − Hw
    u: jax.Array  # (p,) the direction: w(λ − Δ) = w + Δu (u_A = H_AA⁻¹ s_A)
    v: jax.Array  # (p,) c(λ − Δ) = c − Δv (v = Hu, equal to s on the active set)


def _weights(state, H, b, lam):
    """``w_A = H_AA⁻¹(b_A − λ s_A)``, 0 off ``A``, after one step of iterative refinement (the
    updated inverse carries the round-off of its updates)."""
    target = jnp.where(state.active, b - lam * state.sign, 0.0)
    w = state.inverse @ target
    return w + state.inverse @ (target - jnp.where(state.active, H @ w, 0.0))


def _direction(state, H):
    """The state with ``u`` and ``v`` of its active set and signs."""
    u = state.inverse @ state.sign
    return state._replace(u=u, v=H @ u)


def _first_event(state):
    """How far λ can fall before the next breakpoint, which weight it concerns, and whether it enters
    (with the sign it takes) or leaves the active set."""
    w, c, u, v = state.w, state.c, state.u, state.v
    tiny = jnp.finfo(w.dtype).tiny
    # the weight of the last breakpoint sits on the boundary it crossed and moves away from it until
    # the next breakpoint: it may leave again (after entering) or re-enter with the other sign
    # (after leaving), but not cross back at once
    last = jnp.arange(w.shape[0]) == state.last
    free = ~state.active

    def step(num, den, ok):  # num / den where ok, inf elsewhere
        return jnp.where(ok & (den > tiny), num / jnp.where(den > tiny, den, 1.0), jnp.inf)

    # c_j reaches +λ or −λ; a correlation past ±λ by round-off enters at once
    up = jnp.maximum(step(state.lam - c, 1.0 - v, free & ~(last & (state.blocked == 0))), 0.0)
    down = jnp.maximum(step(state.lam + c, 1.0 + v, free & ~(last & (state.blocked == 1))), 0.0)
    # w_j reaches 0, for the weights moving towards it
    toward = -w * jnp.sign(u)
    bound = state.active & ~(last & (state.blocked == 2)) & (toward > 0)
    leave = step(toward, jnp.abs(u), bound)
    steps = jnp.stack([up, down, leave])
    which = jnp.argmin(steps.reshape(-1))
    kind, j = which // w.shape[0], which % w.shape[0]
    return steps.reshape(-1)[which], j, kind


def _enter(state, H, j, sign):
    """Add weight ``j`` to the active set: the inverse grows by its Schur complement."""
    h = jnp.where(state.active, H[:, j], 0.0)
    q = state.inverse @ h
    schur = H[j, j] - h @ q
    e = q - jnp.zeros_like(q).at[j].set(1.0)
    singular = ~(schur > 1e-12 * H[j, j])
    inverse = state.inverse + jnp.outer(e, e) / jnp.where(singular, 1.0, schur)
    return state._replace(
        active=state.active.at[j].set(True),
        sign=state.sign.at[j].set(sign),
        inverse=inverse,
        singular=state.singular | singular,
    )


def _leave(state, j):
    """Remove weight ``j`` from the active set: the inverse of the remaining block."""
    m = state.inverse[:, j]
    inverse = state.inverse - jnp.outer(m, m) / m[j]
    inverse = inverse.at[j, :].set(0.0).at[:, j].set(0.0)
    return state._replace(
        active=state.active.at[j].set(False), sign=state.sign.at[j].set(0.0), inverse=inverse
    )


@program("homotopy", static_argnames=("max_events",), model_argname=None)
def follow(H, b, lambdas, *, max_events):
    """The compiled loop of `lasso_path`: at most ``max_events`` breakpoints; same returns.

    Examples
    --------
    `lasso_path` is this loop with room for ``20 p + n_points`` breakpoints (a compiled program,
    `bayesreg.engine.programs.Program`, compiled once per ``max_events`` and shapes):

    >>> import numpy as np
    >>> from bayesreg.engine.homotopy import follow, lasso_path
    >>> H, b, lambdas = np.eye(3), np.array([3.0, -1.0, 0.5]), np.array([2.5, 1.5, 0.75, 0.25])
    >>> coefs, steps, residual = follow(H, b, lambdas, max_events=20 * 3 + 4)
    >>> bool(np.all(coefs == lasso_path(H, b, lambdas)[0])), np.asarray(residual).tolist()
    (True, [0.0, 0.0, 0.0, 0.0])
    """
    p, n_points = b.shape[0], lambdas.shape[0]
    start = _State(
        lam=jnp.max(jnp.abs(b)),  # for λ at or above it every weight is 0
        active=jnp.zeros(p, bool),
        sign=jnp.zeros(p),
        inverse=jnp.zeros((p, p)),
        point=jnp.asarray(0, _INT),
        since=jnp.asarray(0, _INT),
        events=jnp.asarray(0, _INT),
        last=jnp.asarray(-1, _INT),
        blocked=jnp.asarray(2, _INT),
        coefs=jnp.zeros((n_points, p)),
        steps=jnp.zeros(n_points, _INT),
        singular=jnp.asarray(False),
        w=jnp.zeros(p),
        c=b,
        u=jnp.zeros(p),
        v=jnp.zeros(p),
    )

    def go_on(state):
        return (state.point < n_points) & (state.events < max_events) & ~state.singular

    def step(state):
        target = lambdas[state.point]
        gap, j, kind = _first_event(state)

        def record(state):  # the grid point comes first: the active set holds down to it
            lam = jnp.minimum(state.lam, target)
            w = _weights(state, H, b, lam)  # solved afresh: no drift from one point to the next
            return state._replace(
                lam=lam,
                point=state.point + 1,
                since=jnp.zeros_like(state.since),
                coefs=state.coefs.at[state.point].set(w),
                steps=state.steps.at[state.point].set(state.since),
                w=w,
                c=b - H @ w,
            )

        def breakpoint(state):
            # after entering, leaving is blocked; after leaving, entering with the sign it had
            blocked = jnp.where(kind == 2, jnp.where(state.sign[j] > 0, 0, 1), 2).astype(_INT)
            moved = state._replace(
                lam=state.lam - gap,
                since=state.since + 1,
                events=state.events + 1,
                last=j.astype(_INT),
                blocked=blocked,
                w=(state.w + gap * state.u).at[j].set(0.0),  # j enters or leaves at 0
                c=state.c - gap * state.v,
            )
            changed = lax.cond(
                kind == 2,
                lambda s: _leave(s, j),
                lambda s: _enter(s, H, j, jnp.where(kind == 0, 1.0, -1.0)),
                moved,
            )
            return _direction(changed, H)

        return lax.cond(state.lam - target <= gap, record, breakpoint, state)

    end = lax.while_loop(go_on, step, start)
    residual = jax.vmap(lambda w, lam: kkt_residual(w, H @ w - b, lam, rtol=8 * jnp.finfo(b.dtype).eps))(
        end.coefs, lambdas
    )
    done = jnp.arange(n_points) < end.point
    return end.coefs, end.steps, jnp.where(done, residual / start.lam, jnp.inf)


def lasso_path(H, b, lambdas):
    """The minimiser of ``½ wᵀHw − bᵀw + λ‖w‖₁`` at each ``λ`` of a grid, by homotopy.

    Parameters
    ----------
    H : array, shape (p, p)
        Symmetric positive definite (the Hessian of the smooth part; at least on every active set the
        path visits).
    b : array, shape (p,)
    lambdas : array, shape (n_points,)
        L1 weights, decreasing (the order the path runs in).

    Returns
    -------
    coefs : array, shape (n_points, p)
        The minimiser at each ``λ``, with exact zeros off the active set.
    steps : array of int, shape (n_points,)
        Breakpoints passed between a grid point and the one before.
    residual : array, shape (n_points,)
        Optimality residual (`bayesreg.engine.proximal.kkt_residual`) at each point relative to ``max|b|``
        (the one at ``w = 0``, ``λ = 0``); ``inf`` where the path stopped before it (``H_AA``
        singular, or more than ``20 p + n_points`` breakpoints).

    Examples
    --------
    With ``H = I`` the minimiser is the soft threshold of ``b`` at each ``λ``; weight 1 enters the
    active set between λ = 1.5 and λ = 0.75, weight 2 between 0.75 and 0.25:

    >>> import numpy as np
    >>> from bayesreg.engine.homotopy import lasso_path
    >>> from bayesreg.engine.proximal import soft_threshold
    >>> b, lambdas = np.array([3.0, -1.0, 0.5]), np.array([2.5, 1.5, 0.75, 0.25])
    >>> coefs, steps, residual = lasso_path(np.eye(3), b, lambdas)
    >>> np.asarray(coefs)
    array([[ 0.5 ,  0.  ,  0.  ],
           [ 1.5 ,  0.  ,  0.  ],
           [ 2.25, -0.25,  0.  ],
           [ 2.75, -0.75,  0.25]])
    >>> bool(np.all(coefs == soft_threshold(b, lambdas[:, None]))), np.asarray(steps).tolist()
    (True, [1, 0, 1, 1])
    """
    p, n_points = b.shape[0], lambdas.shape[0]
    return follow(H, b, lambdas, max_events=20 * p + n_points)
