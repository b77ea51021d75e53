"""Weight decay (DIGEST claim 2): gradient steps on J + (α/2)‖w‖² are the decayed update (1 − εα)w − ε∇J.

Three iterations from the same start, in float64, J the negative log-likelihood of the real model
(numpyro's ``log_density`` of `linear_regression_stats` / `logistic_regression` under a flat prior):

* ``optax.sgd(ε)`` on the penalised loss ``J(w) + (α/2)‖w‖²``;
* ``optax.chain(optax.add_decayed_weights(α), optax.sgd(ε))`` on ``J`` alone;
* `bayesreg.closed_forms.weight_decay_step` with ``∇J`` from JAX.

They agree to round-off at every one of 50 steps (1e-12 relative: each step differs from the others
only in the order of a few float64 operations, and the iteration is a contraction, so round-off does
not grow), and, run to convergence (full-batch, ε = 1/L), they reach the MAP under the Gaussian prior of
precision α (`bayesreg.map_estimate`, book convention) to 1e-9.
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from numpyro.infer.util import log_density
from sklearn.exceptions import ConvergenceWarning

from bayesreg import map_estimate, prior_from_penalty
from bayesreg.closed_forms import weight_decay_step
from bayesreg.models import SufficientStats, linear_regression_stats, logistic_regression

STEPS = 50
SIGMA = 50.0


@pytest.fixture(scope="module", params=["linear", "logistic"])
def problem(request, diabetes, breast_cancer):
    """(model, args, kwargs, alpha, learning rate ε = 1/L, family) with no intercept."""
    if request.param == "linear":
        X, y = diabetes
        X, y = X - X.mean(axis=0), y - y.mean()
        H = X.T @ X / SIGMA**2  # the Hessian of J, everywhere
        alpha = float(np.max(np.linalg.eigvalsh(H)))  # strong decay: the condition number is ≈ 2
        args, kwargs, family = (SufficientStats.from_data(X, y, center=False),), {"sigma": SIGMA}, "gaussian"
    else:
        X, y = breast_cancer
        H = X.T @ X / 4  # bounds the Hessian of the cross-entropy everywhere
        alpha = float(np.max(np.linalg.eigvalsh(H))) / 4
        args, kwargs, family = (X, y), {}, "bernoulli"
    lipschitz = float(np.max(np.linalg.eigvalsh(H))) + alpha
    return request.param, args, kwargs, alpha, 1.0 / lipschitz, family


def _loss(model, args, kwargs):
    def J(w):
        return -log_density(model, args, {**kwargs, "prior": None, "fit_intercept": False}, {"coef": w})[0]

    return J


def _model(name):
    return linear_regression_stats if name == "linear" else logistic_regression


def _run(optimizer, loss, w0, steps):
    """``steps`` optax updates of ``loss`` from ``w0``: all iterates, shape (steps + 1, p)."""

    def step(carry, _):
        w, state = carry
        updates, state = optimizer.update(jax.grad(loss)(w), state, w)
        w = optax.apply_updates(w, updates)
        return (w, state), w

    _, ws = jax.lax.scan(step, (w0, optimizer.init(w0)), None, length=steps)
    return jnp.concatenate([w0[None], ws])


def _iterates(problem, steps):
    name, args, kwargs, alpha, eps, _ = problem
    with jax.enable_x64(True):
        args = jax.tree.map(lambda a: jnp.asarray(a, dtype=jnp.float64), args)
        J = _loss(_model(name), args, kwargs)

        def penalised(w):
            return J(w) + 0.5 * alpha * w @ w

        p = args[0].xty.shape[0] if name == "linear" else args[0].shape[1]
        w0 = jnp.asarray(np.random.default_rng(5).normal(scale=2.0, size=p))
        sgd = jax.jit(lambda w0: _run(optax.sgd(eps), penalised, w0, steps))(w0)
        decayed = jax.jit(
            lambda w0: _run(optax.chain(optax.add_decayed_weights(alpha), optax.sgd(eps)), J, w0, steps)
        )(w0)
        grad_J = jax.jit(jax.grad(J))
        closed = [np.asarray(w0)]
        for _ in range(steps):
            w = closed[-1]
            closed.append(np.asarray(weight_decay_step(w, np.asarray(grad_J(jnp.asarray(w))), alpha, eps)))
    return np.asarray(sgd), np.asarray(decayed), np.array(closed)


def test_penalised_sgd_and_decayed_weights_give_the_same_iterates(problem):
    sgd, decayed, closed = _iterates(problem, STEPS)
    scale = np.max(np.abs(sgd))
    assert np.max(np.abs(sgd - sgd[0])) > 1e-3 * scale, "the iterates must move"
    for name, other in (("add_decayed_weights", decayed), ("closed_forms.weight_decay_step", closed)):
        diff = np.max(np.abs(sgd - other), axis=1)
        print(f"\n{problem[0]}: max |Δ| per step, sgd vs {name}: worst {diff.max():.2e} (scale {scale:.3g})")
        assert np.all(diff <= 1e-12 * scale), f"{name}: {diff.max():.2e}"


def test_weight_decay_converges_to_the_ridge_map(problem):
    name, args, kwargs, alpha, _, family = problem
    sgd, decayed, closed = _iterates(problem, 400)
    prior = prior_from_penalty("gaussian", alpha, convention="book", family=family)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ridge = map_estimate(_model(name), *args, prior=prior, fit_intercept=False, **kwargs).params["coef"]
    scale = max(1.0, np.max(np.abs(ridge)))
    for label, ws in (("sgd", sgd), ("add_decayed_weights", decayed), ("weight_decay_step", closed)):
        error = np.max(np.abs(ws[-1] - ridge))
        print(f"\n{name}: {label} after 400 steps, max |w − MAP| = {error:.2e}")
        assert error <= 1e-9 * scale, f"{label}: {error:.2e}"
    # and not before: 5 steps are far from it (the test sees the iteration, not the start)
    assert np.max(np.abs(sgd[5] - ridge)) > 1e-4 * scale
