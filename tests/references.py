"""Reference solutions for the MAP tests, and the one assertion that compares a MAP to them.

`assert_map_equal` is the criterion of every MAP-vs-reference equality test: each coefficient and the
intercept within ``rtol·|reference| + atol`` of the reference (1e-6 relative by default, so a small
coefficient is held to its own size, not to the largest one), and exact zeros exactly where the
reference has them.

scikit-learn's solvers stop at a tolerance on a duality gap or a gradient norm, which does not bound
every coefficient to 1e-6 of its own size. The references here are therefore *certified*: scikit-learn
supplies the support and the signs, the stationarity equations are solved on that support in NumPy
(a linear solve for least squares, Newton's method for the logistic loss), and the KKT conditions of
the convex problem are then checked at the point found:

* stationarity on the support to round-off (each gradient component within ``KKT_RTOL`` of the sum
  of the magnitudes it is computed from),
* the signs of the solution are those assumed,
* every zero strictly inside its subdifferential (``|gradient_j| <= (1 − ZERO_MARGIN)·λ₁``), so the
  zero set is not on the edge of changing,
* a last refinement (Newton) step per coefficient below ``FORWARD_RTOL`` of the coefficient: the
  point is accurate to about 1e-9 of each coefficient, three orders below the tests' criterion.

If any of these fails, the reference raises an AssertionError naming the condition: a MAP test never
compares against an uncertified point.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge, enet_path, lasso_path

MAP_RTOL = 1e-6  # the README's claim: each coefficient to 1e-6 of its own size
MAP_ATOL = 1e-9  # for coefficients (and intercepts) near 0, where a relative bound means nothing
KKT_RTOL = 1e-12  # stationarity of a certified reference, relative to the terms of its gradient
ZERO_MARGIN = 1e-6  # a certified zero's |gradient| is at most (1 − ZERO_MARGIN)·λ₁
FORWARD_RTOL = 1e-9  # the last refinement step of a certified reference, relative per coefficient
FORWARD_ATOL = 1e-13  # ... plus this, times the largest |coefficient| (for coefficients near 0)
SKLEARN_RTOL = 1e-9  # scikit-learn's answer vs its certified polish, relative to max(1, ‖θ‖∞)


# --------------------------------------------------------------------------------------------------
# the assertion
# --------------------------------------------------------------------------------------------------


def assert_map_equal(
    coef,
    intercept,
    ref_coef,
    ref_intercept,
    *,
    rtol: float = MAP_RTOL,
    atol: float = MAP_ATOL,
    label: str = "",
    names=None,
):
    """Assert that a MAP equals a reference, coefficient by coefficient, with the same exact zeros.

    Parameters
    ----------
    coef, ref_coef : array_like of shape (n_features,)
        The weights of the MAP and of the reference.
    intercept, ref_intercept : float
        The intercepts (pass ``0.0`` for both when the model has none).
    rtol, atol : float
        Each ``|coef_j − ref_coef_j| <= rtol·|ref_coef_j| + atol``, and the same for the intercept.
    label : str
        Names the comparison in the failure message.
    names : sequence of str, optional
        Feature names for the message; ``coef[j]`` otherwise.

    Raises
    ------
    AssertionError
        Naming every coefficient out of bounds with both values, or the coefficients that are exactly
        0 in one and not in the other.
    """
    coef, ref_coef = np.asarray(coef, dtype=float), np.asarray(ref_coef, dtype=float)
    assert coef.shape == ref_coef.shape, f"{label}: shapes {coef.shape} and {ref_coef.shape}"
    names = [f"coef[{j}]" for j in range(coef.size)] if names is None else [str(n) for n in names]
    theta = np.append(coef.ravel(), float(intercept))
    ref = np.append(ref_coef.ravel(), float(ref_intercept))
    assert np.all(np.isfinite(theta)), f"{label}: not finite: {theta}"
    bound = rtol * np.abs(ref) + atol
    error = np.abs(theta - ref)
    bad = np.flatnonzero(~(error <= bound))
    if bad.size:
        relative = error / np.maximum(np.abs(ref), 1e-300)
        lines = [
            f"  {[*names, 'intercept'][j]}: {theta[j]:.17g} vs reference {ref[j]:.17g}: |Δ| = {error[j]:.3e}"
            f" > {rtol:g}·|ref| + {atol:g} = {bound[j]:.3e} (relative {relative[j]:.2e})"
            for j in bad
        ]
        raise AssertionError(f"{label}: {bad.size} of {theta.size} values out of bounds\n" + "\n".join(lines))
    coef, ref_coef = coef.ravel(), ref_coef.ravel()
    differ = np.flatnonzero((coef == 0.0) != (ref_coef == 0.0))
    if differ.size:
        lines = [f"  {names[j]}: {coef[j]:.17g} vs reference {ref_coef[j]:.17g}" for j in differ]
        raise AssertionError(f"{label}: the exact zeros differ\n" + "\n".join(lines))


# --------------------------------------------------------------------------------------------------
# certified solutions
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certified:
    """A KKT-certified minimiser: ``coef`` (zeros exact), ``intercept`` (0.0 without one), and the
    measured certificate: the largest relative stationarity residual on the support, the smallest
    relative margin ``1 − |gradient_j|/λ₁`` of the zeros (``inf`` without zeros), and the largest
    last refinement step relative to its bound."""

    coef: np.ndarray
    intercept: float
    stationarity: float
    zero_margin: float
    refinement: float


def _check(label, coef, active, sign, grad, magnitude, l1, step, step_intercept, intercept):
    """The KKT certificate shared by both losses; returns the measured `Certified`."""
    if not np.array_equal(np.sign(coef[active]), sign[active]):
        raise AssertionError(f"{label}: not certified: the signs of the support are not optimal")
    if np.any(coef[~active] != 0.0):
        raise AssertionError(f"{label}: not certified: a weight off the support is not exactly 0")
    on = grad[active] + l1 * sign[active]
    residual = np.abs(on) / magnitude[active] if on.size else np.zeros(0)
    stationarity = float(residual.max(initial=0.0))
    if stationarity > KKT_RTOL:
        j = np.flatnonzero(active)[np.argmax(residual)]
        raise AssertionError(
            f"{label}: not certified: stationarity residual {stationarity:.2e} > {KKT_RTOL:g} at coef[{j}]"
        )
    if np.any(~active):
        if l1 <= 0:
            raise AssertionError(f"{label}: not certified: an exact zero without an L1 penalty")
        margin = float(np.min(1.0 - np.abs(grad[~active]) / l1))
        if margin < ZERO_MARGIN:
            raise AssertionError(
                f"{label}: not certified: a zero sits at the edge of its subdifferential "
                f"(1 − |gradient|/λ₁ = {margin:.3e} < {ZERO_MARGIN:g}); its zero set is not well determined"
            )
    else:
        margin = np.inf
    scale = np.max(np.abs(coef), initial=0.0)
    bounds = FORWARD_RTOL * np.abs(coef[active]) + FORWARD_ATOL * scale
    steps = np.abs(step) / np.where(bounds > 0, bounds, 1.0)
    refinement = float(steps.max(initial=0.0))
    if step_intercept is not None:
        b_bound = FORWARD_RTOL * abs(intercept) + FORWARD_ATOL * max(scale, abs(intercept))
        refinement = max(refinement, abs(step_intercept) / b_bound if b_bound > 0 else 0.0)
    if refinement > 1.0:
        raise AssertionError(
            f"{label}: not certified: the last refinement step is {refinement:.2e} times "
            f"{FORWARD_RTOL:g}·|coef| + {FORWARD_ATOL:g}·‖coef‖∞ (the system is too ill-conditioned)"
        )
    return stationarity, margin, refinement


def certify_least_squares(X, y, coef, *, l1, l2=0.0, fit_intercept=True, label=""):
    """The exact minimiser of ``½‖y − b − Xw‖² + l1‖w‖₁ + (l2/2)‖w‖²`` on the support and signs of ``coef``.

    With an intercept the data are centred first (the unpenalised intercept is then ``ȳ − x̄ᵀw``). On
    the support S the objective is a quadratic with the L1 subgradient fixed to the signs:
    ``(X_SᵀX_S + l2·I) w_S = X_Sᵀy − l1·sign_S``, solved after equilibration (unit diagonal) and
    refined with residuals ``X_Sᵀ(y − X_S w_S)`` computed from the data. Then certified (module
    docstring); raises AssertionError if the certificate fails.

    Returns
    -------
    Certified
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    coef = np.asarray(coef, dtype=float)
    if fit_intercept:
        x_mean, y_mean = X.mean(axis=0), y.mean()
        Xc, yc = X - x_mean, y - y_mean
    else:
        Xc, yc = X, y
    active, sign = coef != 0, np.sign(coef)
    XS = Xc[:, active]
    A = XS.T @ XS + l2 * np.eye(XS.shape[1])
    d = 1.0 / np.sqrt(np.diag(A)) if XS.shape[1] else np.zeros(0)
    A_eq = A * np.outer(d, d)

    def solve(rhs):
        return d * np.linalg.solve(A_eq, d * rhs) if rhs.size else rhs

    def gradient(w_s):  # of the objective on the support, from the data (not from A)
        return XS.T @ (XS @ w_s - yc) + l2 * w_s + l1 * sign[active]

    w_s = solve(XS.T @ yc - l1 * sign[active])
    for _ in range(3):  # iterative refinement; the last step measures the forward error
        step = -solve(gradient(w_s))
        w_s = w_s + step
    step = -solve(gradient(w_s))
    w = np.zeros_like(coef)
    w[active] = w_s
    grad = Xc.T @ (Xc @ w - yc) + l2 * w
    magnitude = np.abs(Xc).T @ (np.abs(Xc) @ np.abs(w) + np.abs(yc)) + l2 * np.abs(w) + l1
    if fit_intercept:
        intercept = float(y_mean - x_mean @ w)
        step_intercept = float(-x_mean[active] @ step)
    else:
        intercept, step_intercept = 0.0, None
    measured = _check(label, w, active, sign, grad, magnitude, l1, step, step_intercept, intercept)
    return Certified(w, intercept, *measured)


def certify_logistic(X, y, coef, intercept=0.0, *, l1, l2=0.0, fit_intercept=True, label=""):
    """The exact minimiser of ``Σ logloss(y, b + Xw) + l1‖w‖₁ + (l2/2)‖w‖²`` on the support and signs
    of ``coef`` (the intercept unpenalised, 0 without one): `certify_glm` with the Bernoulli
    likelihood.

    Returns
    -------
    Certified
    """
    return certify_glm(
        X, y, coef, intercept, family="bernoulli", l1=l1, l2=l2, fit_intercept=fit_intercept, label=label
    )


def _bernoulli(eta, y):
    mean = expit(eta)
    return mean - y, mean * (1 - mean), mean + y


def _poisson(eta, y):
    mean = np.exp(eta)
    return mean - y, mean, mean + y


def _negative_binomial(dispersion):
    # −log p = (y + r) log(r + μ) − yη + const with r = 1/α: derivative (y + r)·q − y in η,
    # q = μ/(r + μ) = expit(η + log α)
    r = 1.0 / dispersion

    def derivatives(eta, y):
        q = expit(eta + np.log(dispersion))
        return (y + r) * q - y, (y + r) * q * (1 - q), (y + r) * q + y

    return derivatives


def _student_t(df, sigma):
    # −log p = ((ν + 1)/2) log(1 + e²/(νσ²)) + const with e = y − η
    s2 = df * sigma**2

    def derivatives(eta, y):
        e = y - eta
        denominator = s2 + e**2
        magnitude = (df + 1) * (np.abs(y) + np.abs(eta)) / denominator
        return -(df + 1) * e / denominator, (df + 1) * (s2 - e**2) / denominator**2, magnitude

    return derivatives


def certify_glm(
    X,
    y,
    coef,
    intercept=0.0,
    *,
    family,
    l1,
    l2=0.0,
    fit_intercept=True,
    offset=None,
    dispersion=None,
    df=None,
    sigma=None,
    label="",
):
    """The exact minimiser of ``Σ NLL(y_i | η_i) + l1‖w‖₁ + (l2/2)‖w‖²``, ``η = b + Xw + offset``, on the
    support and signs of ``coef`` (the intercept unpenalised, 0 without one).

    ``family`` is "bernoulli" (logit link), "poisson" or "negative_binomial" (log link; NB2 with
    ``dispersion`` α fixed, ``Var = μ + αμ²``) or "student_t" (identity link, ``df`` ν and scale
    ``sigma`` fixed). Newton's method on the support (smooth there, with the signs fixed) from
    ``(intercept, coef)`` until its steps stop shrinking (round-off), then certified (module
    docstring; the refinement is the first Newton step not taken), and the Hessian on the support
    must be positive definite (a minimum: the Student-t loss is not convex); raises AssertionError
    if the certificate fails.

    Returns
    -------
    Certified
    """
    derivatives = {
        "bernoulli": lambda: _bernoulli,
        "poisson": lambda: _poisson,
        "negative_binomial": lambda: _negative_binomial(dispersion),
        "student_t": lambda: _student_t(df, sigma),
    }[family]()
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    offset = 0.0 if offset is None else np.asarray(offset, dtype=float)
    coef = np.asarray(coef, dtype=float)
    active, sign = coef != 0, np.sign(coef)
    Z, theta = X[:, active], coef[active].copy()
    linear, ridge = l1 * sign[active], np.full(theta.shape, float(l2))
    if fit_intercept:
        Z = np.column_stack([np.ones(X.shape[0]), Z])
        theta = np.append(float(intercept), theta)
        linear, ridge = np.append(0.0, linear), np.append(0.0, ridge)

    def hessian(theta):
        _, curvature, _ = derivatives(Z @ theta + offset, y)
        return (Z * curvature[:, None]).T @ Z + np.diag(ridge)

    def newton_step(theta):
        first, _, _ = derivatives(Z @ theta + offset, y)
        grad = Z.T @ first + linear + ridge * theta
        hess = hessian(theta)
        d = 1.0 / np.sqrt(np.diag(hess))
        return -d * np.linalg.solve(hess * np.outer(d, d), d * grad)

    previous = np.inf
    for _ in range(100):  # until the steps stop shrinking: round-off, judged by the certificate below
        step = newton_step(theta)
        size = np.max(np.abs(step), initial=0.0) / max(1.0, np.max(np.abs(theta), initial=0.0))
        if size >= previous and size <= 1e-12:
            break
        theta, previous = theta + step, size
    else:
        raise AssertionError(f"{label}: not certified: Newton's method on the support did not converge")
    try:
        np.linalg.cholesky(hessian(theta))
    except np.linalg.LinAlgError:
        raise AssertionError(
            f"{label}: not certified: the Hessian on the support is not positive definite (not a minimum)"
        ) from None
    b = float(theta[0]) if fit_intercept else 0.0
    w = np.zeros_like(coef)
    w[active] = theta[1:] if fit_intercept else theta
    first, _, terms = derivatives(b + X @ w + offset, y)
    grad = X.T @ first + l2 * w
    magnitude = np.abs(X).T @ terms + l2 * np.abs(w) + l1
    if fit_intercept:
        balance = abs(np.sum(first)) / np.sum(terms)
        if balance > KKT_RTOL:
            raise AssertionError(f"{label}: not certified: intercept stationarity residual {balance:.2e}")
        step_w, step_b = step[1:], float(step[0])
    else:
        step_w, step_b = step, None
    measured = _check(label, w, active, sign, grad, magnitude, l1, step_w, step_b, b)
    return Certified(w, b, *measured)


# --------------------------------------------------------------------------------------------------
# scikit-learn's estimates, certified
# --------------------------------------------------------------------------------------------------


def _assert_sklearn_near(label, coef, intercept, certified: Certified, rtol=SKLEARN_RTOL):
    """scikit-learn's answer must be the certified point's neighbour: the certificate polishes it."""
    theta = np.append(coef, intercept)
    exact = np.append(certified.coef, certified.intercept)
    error = np.max(np.abs(theta - exact))
    scale = max(1.0, np.max(np.abs(exact)))
    assert error <= rtol * scale, (
        f"{label}: scikit-learn's answer is {error:.2e} from its certified polish "
        f"(> {rtol:g} × {scale:.3g}): not a converged reference"
    )


def _fit_strictly(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return est.fit(X, y)


def sklearn_linear(kind, X, y, alpha, l1_ratio=None, *, fit_intercept=True) -> Certified:
    """scikit-learn's ``Lasso`` / ``Ridge`` / ``ElasticNet`` at ``alpha``, certified.

    Conventions: Lasso ``(1/2n)‖r‖² + α‖w‖₁ = (1/n)[½‖r‖² + nα‖w‖₁]``; Ridge
    ``‖r‖² + α‖w‖² = 2[½‖r‖² + (α/2)‖w‖²]``; ElasticNet ``λ₁ = nαρ``, ``λ₂ = nα(1 − ρ)``.
    scikit-learn must be within `SKLEARN_RTOL` (max-norm) of the certified point it gives the support
    of; the certified point is returned.
    """
    n = X.shape[0]
    if kind == "gaussian":
        est, l1, l2 = Ridge(alpha=alpha, fit_intercept=fit_intercept, solver="cholesky"), 0.0, alpha
    elif kind == "laplace":
        est = Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14, max_iter=10**6)
        l1, l2 = n * alpha, 0.0
    else:
        est = ElasticNet(
            alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=1e-14, max_iter=10**6
        )
        l1, l2 = n * alpha * l1_ratio, n * alpha * (1 - l1_ratio)
    _fit_strictly(est, X, y)
    coef, intercept = est.coef_.copy(), float(est.intercept_)
    label = f"{type(est).__name__}(alpha={alpha:.4g}, l1_ratio={l1_ratio}, fit_intercept={fit_intercept})"
    certified = certify_least_squares(X, y, coef, l1=l1, l2=l2, fit_intercept=fit_intercept, label=label)
    _assert_sklearn_near(label, coef, intercept, certified)
    return certified


def sklearn_logistic(X, y, C, l1_ratio, *, fit_intercept=True, sklearn_rtol=SKLEARN_RTOL) -> Certified:
    """scikit-learn's ``LogisticRegression(C, l1_ratio)`` (newton-cholesky for L2, saga otherwise),
    certified. Its objective ``C·Σ logloss + ρ‖w‖₁ + ((1−ρ)/2)‖w‖²``, divided by C, has
    ``λ₁ = ρ/C``, ``λ₂ = (1 − ρ)/C``; the positive class is ``classes_[1]``.

    scikit-learn must be within ``sklearn_rtol`` (relative to max(1, ‖θ‖∞)) of the certified point;
    saga on unscaled columns stops further from it than `SKLEARN_RTOL`, and a test that says so may
    pass a larger one (the certified point, not scikit-learn's, is the reference either way).
    """
    common = {"C": C, "l1_ratio": l1_ratio, "fit_intercept": fit_intercept, "tol": 1e-14}
    if l1_ratio == 0.0:
        est = LogisticRegression(solver="newton-cholesky", max_iter=1000, **common)
    else:
        est = LogisticRegression(solver="saga", max_iter=10**6, random_state=0, **common)
    _fit_strictly(est, X, y)
    coef = est.coef_[0].copy()
    intercept = float(est.intercept_[0]) if fit_intercept else 0.0
    label = f"LogisticRegression(C={C:.4g}, l1_ratio={l1_ratio}, fit_intercept={fit_intercept})"
    y01 = (np.asarray(y) == est.classes_[1]).astype(float)
    certified = certify_logistic(
        X,
        y01,
        coef,
        intercept,
        l1=l1_ratio / C,
        l2=(1 - l1_ratio) / C,
        fit_intercept=fit_intercept,
        label=label,
    )
    _assert_sklearn_near(label, coef, intercept, certified, sklearn_rtol)
    return certified


def sklearn_linear_path(X, y, alphas, l1_ratio=1.0, *, fit_intercept=True) -> list[Certified]:
    """scikit-learn's ``lasso_path`` (``l1_ratio=1``) / ``enet_path`` over a decreasing grid, each
    point certified. The path functions fit no intercept: with ``fit_intercept`` they run on centred
    data and the intercept is ``ȳ − x̄ᵀw``."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    Xc, yc = (X - X.mean(axis=0), y - y.mean()) if fit_intercept else (X, y)
    n = X.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        if l1_ratio == 1.0:
            ref_alphas, coefs, _ = lasso_path(
                Xc, yc, alphas=alphas, tol=1e-12, max_iter=10**6, precompute=False
            )
        else:
            ref_alphas, coefs, _ = enet_path(
                Xc, yc, l1_ratio=l1_ratio, alphas=alphas, tol=1e-12, max_iter=10**6, precompute=False
            )
    np.testing.assert_array_equal(ref_alphas, alphas)  # decreasing: not reordered
    out = []
    for alpha, coef in zip(alphas, coefs.T, strict=True):
        label = f"{'lasso' if l1_ratio == 1.0 else 'enet'}_path(l1_ratio={l1_ratio}) alpha={alpha:.4g}"
        l1, l2 = n * alpha * l1_ratio, n * alpha * (1 - l1_ratio)
        certified = certify_least_squares(X, y, coef, l1=l1, l2=l2, fit_intercept=fit_intercept, label=label)
        intercept = float(y.mean() - X.mean(axis=0) @ coef) if fit_intercept else 0.0
        _assert_sklearn_near(label, coef, intercept, certified)
        out.append(certified)
    return out


# --------------------------------------------------------------------------------------------------
# glum's, PoissonRegressor's and statsmodels' penalised GLMs, certified
# --------------------------------------------------------------------------------------------------

GLM_RTOL = 1e-6
"""How far (relative to max(1, ‖θ‖∞)) glum and statsmodels may stop from the certified point whose
support they give: at their default tolerances they stop between 1e-11 and 1e-7 from it on the tests'
data; tighter tolerances made glum's elastic net run for minutes without converging."""


GLUM_TOL = 1e-8
"""glum's ``gradient_tol`` for the references (its default, 1e-4 relative, stopped 1e-5 to 5e-4 from
the certified point on the tests' data; 1e-12 ran its elastic net for minutes on randhie)."""


def glm_rates(n, alpha, l1_ratio):
    """``(λ₁, λ₂) = (nαρ, nα(1 − ρ))``: glum's ``(1/2n)·deviance + αρ‖w‖₁ + (α(1−ρ)/2)‖w‖²`` and
    statsmodels' ``−loglike/n + α(ρ‖w‖₁ + ((1−ρ)/2)‖w‖²)``, times n, for the count and Bernoulli
    families (half the deviance is the negative log-likelihood minus a constant)."""
    return n * alpha * l1_ratio, n * alpha * (1.0 - l1_ratio)


def glum_glm(family, X, y, alpha, l1_ratio, *, dispersion=None, offset=None) -> Certified:
    """glum's ``GeneralizedLinearRegressor`` (``family`` "poisson", or "negative_binomial" with
    ``theta = dispersion``) at ``alpha, l1_ratio`` with an intercept, certified; glum must be within
    `GLM_RTOL` of the certified point."""
    from glum import GeneralizedLinearRegressor, NegativeBinomialDistribution

    glum_family = "poisson" if family == "poisson" else NegativeBinomialDistribution(theta=dispersion)
    est = GeneralizedLinearRegressor(
        family=glum_family, alpha=alpha, l1_ratio=l1_ratio, gradient_tol=GLUM_TOL
    )
    with warnings.catch_warnings():
        # at a gradient_tol this tight its line search may fail in the last digits ("Line search
        # failed"): the certificate and the distance to it below judge the answer
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(np.asarray(X, dtype=float), y, offset=offset)
    label = f"glum {family}(alpha={alpha:.4g}, l1_ratio={l1_ratio}, dispersion={dispersion})"
    fitted = (est.coef_.copy(), float(est.intercept_))
    return _certify_mean_loss(label, family, X, y, fitted, alpha, l1_ratio, dispersion, offset)


def _certify_mean_loss(label, family, X, y, fitted, alpha, l1_ratio, dispersion, offset) -> Certified:
    """A library's ``fitted = (coef, intercept)`` under the mean-loss convention (`glm_rates`),
    certified, and within `GLM_RTOL` of the certified point."""
    coef, intercept = fitted
    l1, l2 = glm_rates(X.shape[0], alpha, l1_ratio)
    certified = certify_glm(
        X, y, coef, intercept, family=family, l1=l1, l2=l2, offset=offset, dispersion=dispersion, label=label
    )
    _assert_sklearn_near(label, coef, intercept, certified, GLM_RTOL)
    return certified


def sklearn_poisson(X, y, alpha) -> Certified:
    """scikit-learn's ``PoissonRegressor(alpha)`` (newton-cholesky), certified: its objective
    ``(1/2n)·deviance + (α/2)‖w‖²`` is ``[NLL + (nα/2)‖w‖²]/n`` plus a constant."""
    from sklearn.linear_model import PoissonRegressor

    est = _fit_strictly(
        PoissonRegressor(alpha=alpha, solver="newton-cholesky", tol=1e-12, max_iter=1000), X, y
    )
    coef, intercept = est.coef_.copy(), float(est.intercept_)
    label = f"PoissonRegressor(alpha={alpha:.4g})"
    certified = certify_glm(
        X, y, coef, intercept, family="poisson", l1=0.0, l2=X.shape[0] * alpha, label=label
    )
    _assert_sklearn_near(label, coef, intercept, certified)
    return certified


def statsmodels_glm(family, X, y, alpha, l1_ratio, *, dispersion=None, offset=None) -> Certified:
    """statsmodels' ``GLM(y, [1, X], family, offset).fit_regularized(alpha, L1_wt=l1_ratio)`` with
    the constant unpenalised (``alpha`` 0 in its place), certified; statsmodels must be within
    `GLM_RTOL` of the certified point."""
    import statsmodels.api as sm

    X = np.asarray(X, dtype=float)
    sm_family = (
        sm.families.Poisson() if family == "poisson" else sm.families.NegativeBinomial(alpha=dispersion)
    )
    model = sm.GLM(y, np.column_stack([np.ones(X.shape[0]), X]), family=sm_family, offset=offset)
    penalty = np.append(0.0, np.full(X.shape[1], alpha))
    fit = model.fit_regularized(
        method="elastic_net", alpha=penalty, L1_wt=l1_ratio, maxiter=1000, cnvrg_tol=1e-12
    )
    params = np.asarray(fit.params, dtype=float)
    label = f"statsmodels GLM {family}.fit_regularized(alpha={alpha:.4g}, L1_wt={l1_ratio})"
    fitted = (params[1:].copy(), float(params[0]))
    return _certify_mean_loss(label, family, X, y, fitted, alpha, l1_ratio, dispersion, offset)


def _nb_dispersion(X, y, coef, intercept, dispersion, label):
    """The maximiser in α of the NB2 log-likelihood with the weights fixed, by Newton's method in
    ``r = 1/α`` from ``dispersion``; raises AssertionError unless its score is 0 to round-off."""
    from scipy.special import digamma, polygamma

    mean = np.exp(intercept + X @ coef)
    r = 1.0 / dispersion
    for _ in range(100):
        terms = (
            digamma(y + r),
            np.full_like(y, -digamma(r)),
            np.log(r / (r + mean)),
            (mean - y) / (r + mean),
        )
        score = sum(np.sum(t) for t in terms)
        curvature = np.sum(polygamma(1, y + r) - polygamma(1, r) + 1 / r - 1 / (r + mean))
        curvature -= np.sum((mean - y) / (r + mean) ** 2)
        step = -score / curvature
        r_new = r + step if r + step > 0 else r / 2
        if abs(r_new - r) <= 1e-15 * r:
            break
        r = r_new
    magnitude = sum(np.sum(np.abs(t)) for t in terms)
    if not (curvature < 0 and abs(score) <= KKT_RTOL * magnitude):
        raise AssertionError(f"{label}: not certified: the dispersion is not a maximum (score {score:.2e})")
    return 1.0 / r


def statsmodels_l1(family, X, y, alpha) -> tuple[Certified, float | None]:
    """statsmodels' discrete ``Poisson`` / ``NegativeBinomial`` (NB2, dispersion α estimated with the
    weights) ``fit_regularized(method="l1", alpha)``, the constant (and α) unpenalised, certified.

    Their objective is ``−loglike + alpha‖w‖₁`` (the book convention, a sum over the rows). For the
    negative binomial the weights given α (`certify_glm`) and α given the weights (Newton's method)
    are found in turn from statsmodels' answer until α settles to 1e-14 relative: the mean and
    dispersion of the NB2 are orthogonal parameters, so the turns converge fast. Returns the
    certified weights and the dispersion (None for the Poisson).
    """
    import statsmodels.api as sm

    X = np.asarray(X, dtype=float)
    Z = np.column_stack([np.ones(X.shape[0]), X])
    penalty = np.append(0.0, np.full(X.shape[1], alpha))
    if family == "poisson":
        model = sm.Poisson(y, Z)
    else:
        model, penalty = sm.NegativeBinomial(y, Z, loglike_method="nb2"), np.append(penalty, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the certificate decides
        params = np.asarray(model.fit_regularized(method="l1", alpha=penalty, disp=0, acc=1e-12).params)
    label = f"statsmodels {type(model).__name__}.fit_regularized(method='l1', alpha={alpha:.4g})"
    coef, intercept = params[1 : X.shape[1] + 1].copy(), float(params[0])
    if family == "poisson":
        certified = certify_glm(X, y, coef, intercept, family="poisson", l1=alpha, label=label)
        _assert_sklearn_near(label, coef, intercept, certified, GLM_RTOL)
        return certified, None
    dispersion, start = float(params[-1]), (coef, intercept)
    for _ in range(100):
        certified = certify_glm(
            X, y, *start, family="negative_binomial", l1=alpha, dispersion=dispersion, label=label
        )
        start = certified.coef, certified.intercept
        new = _nb_dispersion(X, y, *start, dispersion, label)
        settled = abs(new - dispersion) <= 1e-14 * new
        dispersion = new
        if settled:
            break
    else:
        raise AssertionError(f"{label}: not certified: the dispersion did not settle")
    _assert_sklearn_near(
        label, np.append(coef, params[-1]), intercept, _with(certified, dispersion), GLM_RTOL
    )
    return certified, dispersion


def _with(certified: Certified, dispersion: float) -> Certified:
    """``certified`` with the dispersion appended to its weights (for the distance to a library's)."""
    return dataclasses.replace(certified, coef=np.append(certified.coef, dispersion))


def nb_lasso_with_dispersion_prior(X, y, *, l1, prior_score, dispersion, label=""):
    """The MAP of the NB2 lasso ``−loglike + l1‖w‖₁ − log p(α)`` (the constant unpenalised, α in
    its own units: no Jacobian), ``prior_score(α) = d log p(α)/dα``, certified.

    From ``dispersion``, the weights given α and α given the weights are found in turn until α
    settles to 1e-14 relative: the weights certified (`certify_glm`) on the support of the round
    before, or where that fails (the support moved with α) on glum's support at that α
    (`glum_glm`); α the root of the score in α plus ``prior_score``, bracketed where it changes
    sign from + to − (a maximum) and found by ``scipy.optimize.brentq``. Returns the certified
    weights and α.
    """
    from scipy.optimize import brentq
    from scipy.special import digamma

    def score(alpha, mean):  # d/dα of the log joint: −r² d/dr loglike (r = 1/α) + d/dα log p(α)
        r = 1.0 / alpha
        d_r = np.sum(digamma(y + r) - digamma(r) + np.log(r / (r + mean)) + (mean - y) / (r + mean))
        return -(r**2) * d_r + prior_score(alpha)

    certified = None
    for _ in range(100):
        try:
            if certified is None:
                raise AssertionError("no support yet")
            certified = certify_glm(
                X, y, certified.coef, certified.intercept, family="negative_binomial", l1=l1,
                dispersion=dispersion, label=label,
            )  # fmt: skip
        except AssertionError:
            certified = glum_glm("negative_binomial", X, y, l1 / X.shape[0], 1.0, dispersion=dispersion)
        mean = np.exp(certified.intercept + X @ certified.coef)
        low, high = dispersion / 2, dispersion * 2
        for _ in range(60):
            if score(low, mean) > 0 > score(high, mean):
                break
            low, high = low / 2, high * 2
        else:
            raise AssertionError(f"{label}: not certified: no maximum in α bracketed")
        new = brentq(score, low, high, args=(mean,), xtol=1e-300, rtol=4 * np.finfo(float).eps)
        settled = abs(new - dispersion) <= 1e-14 * new
        dispersion = new
        if settled:
            return certified, dispersion
    raise AssertionError(f"{label}: not certified: the dispersion did not settle")


def student_t_lasso(X, y, *, df, sigma, l1, label="") -> Certified:
    """The minimiser of ``Σ ((ν+1)/2) log(1 + e_i²/(νσ²)) + l1‖w‖₁`` (``e = y − b − Xw``, ν and σ
    fixed) by a majorise-minimise iteration of scikit-learn lassos, certified.

    ``log(1 + t)`` is concave, so at the residuals ``e⁰`` of the current point the loss is majorised
    by ``Σ u_i e_i²/(2σ²)`` plus a constant with ``u_i = (ν + 1)/(ν + (e⁰_i/σ)²)`` (the E-step of the
    normal scale mixture): a weighted lasso, scikit-learn's ``Lasso(alpha = σ²·l1/Σu)`` with
    ``sample_weight = u`` (its objective is ``Σ u_i e_i²/(2Σu) + α‖w‖₁``). Each step lowers the
    objective; iterate until the weights stop moving, then certify on the support found
    (`certify_glm`, with the Hessian positive definite there: a minimum).
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    est = Lasso(alpha=1.0, tol=1e-15, max_iter=10**6, warm_start=True)
    residual = y - np.median(y)
    previous = None
    for _ in range(5000):
        u = (df + 1) / (df + (residual / sigma) ** 2)
        est.set_params(alpha=sigma**2 * l1 / u.sum())
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            est.fit(X, y, sample_weight=u)
        theta = np.append(est.coef_, est.intercept_)
        residual = y - est.intercept_ - X @ est.coef_
        if previous is not None and np.max(np.abs(theta - previous)) <= 1e-13 * max(
            1.0, np.max(np.abs(theta))
        ):
            break
        previous = theta
    else:
        raise AssertionError(f"{label}: the majorise-minimise iteration did not settle")
    return certify_glm(
        X, y, est.coef_, float(est.intercept_), family="student_t", l1=l1, df=df, sigma=sigma, label=label
    )


Z_MAX = 4.0
"""How many Monte Carlo standard errors a posterior estimate may miss its reference by."""
QUANTILES = (0.1, 0.5, 0.9)
"""The quantiles `assert_same_posterior` compares."""


def scalar_mcse(draws, method="mean", prob=None) -> float:
    """ArviZ's Monte Carlo standard error of one scalar quantity, draws shaped (chain, draw); for the
    sd the delta method on the mean squared deviation (ArviZ's own formula)."""
    import arviz as az

    draws = np.asarray(draws)
    if method == "sd":
        return scalar_mcse((draws - draws.mean()) ** 2) / (2.0 * draws.std())
    return float(np.squeeze(az.mcse(draws, method=method, prob=prob)))


def assert_same_posterior(standard: dict, other: dict) -> None:
    """Each scalar of ``other`` (name -> draws shaped (chain, draw)) has the mean, sd and `QUANTILES`
    of the same name in ``standard`` within `Z_MAX` combined MCSE."""
    for name, a in other.items():
        b = standard[name]
        combined = np.hypot(scalar_mcse(a), scalar_mcse(b))
        error = a.mean() - b.mean()
        assert abs(error) <= Z_MAX * combined, f"{name} mean off by {error / combined:.1f} MCSE"
        combined = np.hypot(scalar_mcse(a, "sd"), scalar_mcse(b, "sd"))
        error = a.std() - b.std()
        assert abs(error) <= Z_MAX * combined, f"{name} sd off by {error / combined:.1f} MCSE"
        for q in QUANTILES:
            combined = np.hypot(scalar_mcse(a, "quantile", q), scalar_mcse(b, "quantile", q))
            error = np.quantile(a, q) - np.quantile(b, q)
            message = f"{name} {q:.0%} quantile off by {error / combined:.1f} MCSE"
            assert abs(error) <= Z_MAX * combined, message
