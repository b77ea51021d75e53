"""Sparsity priors: the horseshoe, the regularised horseshoe and R2D2, and the penalties they imply.

A global-local prior gives each weight its own scale, ``coef_j ~ N(0, s_j²)``, with a heavy-tailed
local scale (so large effects escape shrinkage) times a global scale shared by all weights (so the
many small ones are pulled to 0 together). The objects here only hold a prior's options; the NumPyro
sites that sample it are in `bayesreg.models.shrinkage` (non-centred: ``coef = z · scale`` with
``z ~ N(0, 1)``), and every model of `bayesreg.models` takes them as ``prior=``.

σ below is the noise sd of the linear model (a number or a sampled site); for logistic regression the
horseshoe uses σ = 1 and the other two the pseudo-σ 2 of Piironen & Vehtari (2017, §3.2: a Bernoulli
likelihood near p = 1/2 behaves like a Gaussian one of variance 1/(p(1−p)) = 4).

The implied penalty of a prior is the marginal negative log-density of one weight, ``−log p(coef_j)``
with every scale integrated out (`Horseshoe.penalty` ...). All three densities here are unbounded
at 0 (the horseshoe's and the regularised horseshoe's always, R2D2's when its Dirichlet
concentration ``a/p`` is at most 1/2): the penalty tends to −∞ at 0, so no MAP exists; a posterior
summary (mean, median, intervals) is the estimate these priors give.

Each object is a frozen dataclass registered as a JAX pytree: its numbers are leaves, so compiled
programs take new values without recompiling.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import ClassVar

import jax
import numpy as np
from scipy import special

from bayesreg.defaults import SHRINKAGE, SHRINKAGE_TARGET_ACCEPT
from bayesreg.params import Interval, check_param

__all__ = [
    # the priors
    "Horseshoe",
    "R2D2",
    "RegularizedHorseshoe",
    # by name, as the estimators and the command line spell them
    "SHRINKAGE_PRIORS",
    "shrinkage_prior",
    # the constants they share
    "LOGISTIC_PSEUDO_SIGMA",
    "SHRINKAGE_TARGET_ACCEPT",
]

LOGISTIC_PSEUDO_SIGMA = 2.0
"""The noise sd a Bernoulli likelihood stands in for when a prior's scale is set relative to σ
(Piironen & Vehtari 2017, §3.2): ``1/√(p(1−p))`` at ``p = 1/2``."""


_POSITIVE = Interval(integer=False, low=0.0, high=None)


def _check_positive(name: str, value) -> None:
    """Check a plain number at construction; arrays and tracers (a pytree rebuilt inside a compiled
    program) pass unchecked."""
    if isinstance(value, numbers.Real):
        check_param(name, value, _POSITIVE)


class _ScaleMixture:
    """The penalty of a scale mixture ``coef | s ~ kernel(0, s)``, ``log s ~ g``, by 1-D quadrature."""

    kind: ClassVar[str]
    target_accept: ClassVar[float] = SHRINKAGE_TARGET_ACCEPT
    kernel: ClassVar[str] = "normal"  # the conditional law of a weight given its scale s

    def _mixing(self, v, num_features: int, sigma: float):  # pragma: no cover - abstract
        """``(log s(v), log g(v), centre)``: the log of the weight's sd as a smooth function of a
        mixing variable ``v`` (numpy, vectorised), the log-density of ``v``, and where its mass lies."""
        raise NotImplementedError

    def _unbounded_at_zero(self, num_features: int) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def _penalty(self, coef, num_features: int, sigma: float) -> np.ndarray:
        coef = np.abs(np.asarray(coef, dtype=float))
        out = np.empty(coef.shape)
        for index, theta in np.ndenumerate(coef):
            out[index] = -self._log_density(theta, num_features, sigma)
        return out

    def _log_kernel(self, theta: float, u):
        shrink = 0.0 if theta == 0.0 else np.exp(-u) * theta  # θ/s (0 at θ = 0, whatever s)
        if self.kernel == "normal":  # N(θ; 0, s²)
            return -0.5 * math.log(2 * math.pi) - u - 0.5 * shrink**2
        return -math.log(2.0) - u - shrink  # Laplace(θ; 0, s)

    def _log_integrand(self, theta: float, u, num_features: int, sigma: float):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            log_sd, log_g, _ = self._mixing(u, num_features, sigma)
            log_f = self._log_kernel(theta, log_sd) + log_g
        return np.where(np.isnan(log_f), -np.inf, log_f)

    def _log_density(self, theta: float, num_features: int, sigma: float) -> float:
        """``log ∫ kernel(θ; s(v)) g(v) dv`` by the trapezoid rule in the mixing variable ``v``.

        ``v`` is the log of a scale, chosen so that the integrand is smooth and decays exponentially
        at both ends; there the trapezoid rule converges geometrically in the step (a step of 0.05
        over ±200 around the integrand's peak, found on a coarse grid first, leaves errors near
        machine precision).
        """
        if theta == 0.0 and self._unbounded_at_zero(num_features):
            return math.inf
        centre = self._mixing(np.zeros(1), num_features, sigma)[2]
        anchor = math.log(theta) if theta > 0 else centre
        coarse = np.linspace(min(anchor, centre) - _REACH, max(anchor, centre) + _REACH, 2001)
        peak_at = float(coarse[np.argmax(self._log_integrand(theta, coarse, num_features, sigma))])
        fine = peak_at + _STEP * np.arange(-_REACH / _STEP, _REACH / _STEP + 1)
        log_f = self._log_integrand(theta, fine, num_features, sigma)
        peak = float(log_f.max())
        return peak + math.log(_STEP * float(np.exp(log_f - peak).sum()))


_REACH, _STEP = 200.0, 0.05  # the log-scale span on each side of the peak, and the trapezoid's step


def _log_half_cauchy_of_log(u, scale: float):
    """Log-density of ``log λ`` for ``λ ~ C⁺(0, scale)``."""
    v = u - math.log(scale)
    return math.log(2.0 / math.pi) + v - np.logaddexp(0.0, 2.0 * v)


def _log_half_cauchy_product_of_log(u, scale: float):
    """Log-density of ``log(λτ)`` for independent ``λ ~ C⁺(0, 1)``, ``τ ~ C⁺(0, scale)``.

    The product ``x`` of two standard half-Cauchy variables has density ``(4/π²) log x / (x² − 1)``,
    so ``log x`` has density ``(2/π²) v / sinh v``.
    """
    v = np.abs(np.asarray(u, dtype=float) - math.log(scale))
    small = v < 1e-6
    safe = np.where(small, 1.0, v)
    # log(v / sinh v) = log(2v) − v − log1p(−e^{−2v})
    log_ratio = np.where(small, -(v**2) / 6.0, np.log(2.0 * safe) - safe - np.log1p(-np.exp(-2.0 * safe)))
    return math.log(2.0 / math.pi**2) + log_ratio


@dataclasses.dataclass(frozen=True)
class Horseshoe(_ScaleMixture):
    """The horseshoe prior (Carvalho, Polson & Scott 2010), as BayesReg writes it.

    .. math::

        \\mathrm{coef}_j \\mid λ_j, τ, σ \\sim \\mathcal N(0, λ_j^2 τ^2 σ^2),\\qquad
        λ_j \\sim C^+(0, 1),\\qquad τ \\sim C^+(0, \\mathrm{global\\_scale}),

    sampled non-centred: ``coef = z · λ · τ · σ`` with ``z_j ~ N(0, 1)`` (sites ``coef_z``,
    ``lambda``, ``tau``; ``coef`` is a deterministic site). σ is the linear model's noise sd and 1 for
    logistic regression. The marginal density of a weight is unbounded at 0 (for τσ = 1 it is
    ``(2π³)^{-1/2} exp(θ²/2) E₁(θ²/2)``, between ``K/2·log(1 + 4/θ²)`` and ``K·log(1 + 2/θ²)``,
    ``K = (2π³)^{-1/2}``: Theorem 1 of Carvalho et al.) and its tails fall off as ``1/θ²``: no
    penalty minimiser (MAP) exists.

    Parameters
    ----------
    global_scale : float > 0, default 1
        Scale of τ's half-Cauchy prior.

    Attributes
    ----------
    kind : str
        ``"horseshoe"``.
    target_accept : float
        The NUTS acceptance target these posteriors need (`SHRINKAGE_TARGET_ACCEPT`, 0.99).

    Examples
    --------
    >>> from bayesreg.shrinkage import Horseshoe
    >>> prior = Horseshoe()
    >>> prior.kind, prior.global_scale, prior.target_accept
    ('horseshoe', 1.0, 0.99)
    >>> prior.describe(num_features=3)
    'horseshoe, λ_j ~ C⁺(0, 1), τ ~ C⁺(0, 1), coef_j ~ N(0, (λ_j τ σ)²)'
    >>> import numpy as np
    >>> pen = prior.penalty([0.0, 0.1, 1.0, 10.0], num_features=3)  # −log p(coef_j), τ integrated out
    >>> float(pen[0]), bool(np.all(np.diff(pen) > 0))  # −∞ at 0 (no MAP), rising with |coef|
    (-inf, True)
    """

    global_scale: float = SHRINKAGE.global_scale
    kind: ClassVar[str] = "horseshoe"

    def __post_init__(self):
        _check_positive("global_scale", self.global_scale)

    def describe(self, num_features: int | None = None, n_samples: int | None = None) -> str:
        """The hierarchy in one line, with the numbers in force.

        Parameters
        ----------
        num_features, n_samples : int, optional
            Not needed by the horseshoe (taken for a common signature).

        Examples
        --------
        >>> from bayesreg.shrinkage import Horseshoe
        >>> Horseshoe(0.1).describe()
        'horseshoe, λ_j ~ C⁺(0, 1), τ ~ C⁺(0, 0.1), coef_j ~ N(0, (λ_j τ σ)²)'
        """
        return (
            f"horseshoe, λ_j ~ C⁺(0, 1), τ ~ C⁺(0, {float(self.global_scale):.6g}), coef_j ~ N(0, (λ_j τ σ)²)"
        )

    def penalty(self, coef, *, num_features: int | None = None, sigma: float = 1.0, tau: float | None = None):
        """The marginal ``−log p(coef_j)`` of one weight, by 1-D quadrature (``−∞`` at 0).

        Parameters
        ----------
        coef : array_like
            Values of one weight.
        num_features : int, optional
            Not needed by the horseshoe (taken for a common signature).
        sigma : float, default 1
            Noise sd σ.
        tau : float, optional
            Condition on this global scale τ instead of integrating it out (``λτ`` with both
            half-Cauchy has the density ``(4/π²) log x/(x² − 1)``, so either way one integral over
            the log of the weight's sd remains).

        Returns
        -------
        numpy.ndarray
            The same shape as ``coef``.

        Examples
        --------
        With τ = σ = 1 the density is ``(2π³)^{-1/2} exp(θ²/2) E₁(θ²/2)`` (Carvalho et al. 2010):

        >>> import numpy as np
        >>> from scipy.special import exp1
        >>> from bayesreg.shrinkage import Horseshoe
        >>> theta = np.array([0.01, 1.0, 30.0])
        >>> closed = -np.log(np.exp(theta**2 / 2) * exp1(theta**2 / 2) / np.sqrt(2 * np.pi**3))
        >>> bool(np.allclose(Horseshoe().penalty(theta, tau=1.0), closed, rtol=1e-9))
        True
        """
        if tau is None:
            return _Conditional(self, None, sigma)._penalty(coef, num_features or 1, sigma)
        _check_positive("tau", tau)
        return _Conditional(self, float(tau), sigma)._penalty(coef, num_features or 1, sigma)

    def _unbounded_at_zero(self, num_features: int) -> bool:
        return True


@dataclasses.dataclass(frozen=True)
class _Conditional(_ScaleMixture):
    """The horseshoe's scale law, τ integrated out (``tau=None``) or fixed."""

    prior: Horseshoe
    tau: float | None
    sigma: float

    def _mixing(self, v, num_features, sigma):  # v = log s, s = λτσ
        if self.tau is None:
            scale = float(self.prior.global_scale) * sigma
            return v, _log_half_cauchy_product_of_log(v, scale), math.log(scale)
        scale = self.tau * sigma
        return v, _log_half_cauchy_of_log(v, scale), math.log(scale)

    def _unbounded_at_zero(self, num_features):
        return True


@dataclasses.dataclass(frozen=True)
class RegularizedHorseshoe(_ScaleMixture):
    """The regularised horseshoe (Piironen & Vehtari 2017): a horseshoe whose large weights meet a slab.

    .. math::

        \\mathrm{coef}_j = z_j\\, τ\\, \\tilde λ_j,\\quad
        \\tilde λ_j^2 = \\frac{c^2 λ_j^2}{c^2 + τ^2 λ_j^2},\\quad
        z_j \\sim \\mathcal N(0, 1),\\quad λ_j \\sim C^+(0, 1),\\quad τ \\sim C^+(0, τ_0),\\quad
        c^2 \\sim \\mathrm{Inv\\text{-}Gamma}\\left(\\tfrac{ν}{2}, \\tfrac{ν s^2}{2}\\right),

    with slab scale ``s = slab_scale``, slab degrees of freedom ``ν = slab_df`` and
    ``τ₀ = p₀/(p − p₀) · σ/√n`` from the expected number of non-zero weights ``p₀`` (p weights, n
    rows; σ the noise sd of the linear model, or the pseudo-σ `LOGISTIC_PSEUDO_SIGMA` = 2 for
    logistic regression). Weights much smaller than ``c`` see a horseshoe of global scale τ; larger
    ones a Student-t slab of scale ``s`` (``c = s·√a``, ``a ~ Inv-Gamma(ν/2, ν/2)``, site
    ``slab_aux``), so the posterior stays proper and NUTS does not chase Cauchy tails where the
    data say little. Sites: ``coef_z``, ``lambda``, ``tau``, ``slab_aux``; ``slab`` (c) and
    ``coef`` are deterministic. Like the horseshoe's, its marginal density is unbounded at 0: no MAP.

    Parameters
    ----------
    expected_nonzero : float in (0, p), optional
        ``p₀``. Default: a tenth of the weights, at least 1 and at most half of them
        (`default_expected_nonzero`): a sparse guess, which τ's half-Cauchy tail lets the data
        overrule by an order of magnitude either way (Piironen & Vehtari 2017, §3.3).
    n_samples : int, optional
        Rows n of the data: needed for τ₀ (the estimators fill it in). Without it, give
        ``global_scale``.
    global_scale : float > 0, optional
        τ₀ itself, used as given (then ``expected_nonzero`` and ``n_samples`` are ignored); on the
        coefficients' scale, not multiplied by σ.
    slab_scale : float > 0, default 2
        ``s``, the scale of the large weights.
    slab_df : float > 0, default 4
        ``ν``, the slab's degrees of freedom.

    Examples
    --------
    Ten rows, eight weights, one expected non-zero: ``τ₀ = 1/7 · σ/√10``:

    >>> from bayesreg.shrinkage import RegularizedHorseshoe
    >>> prior = RegularizedHorseshoe(n_samples=10)
    >>> prior.expected_nonzero_for(8), round(prior.tau0(8, sigma=1.0), 6), round(1 / 7 / 10**0.5, 6)
    (1.0, 0.045175, 0.045175)
    >>> prior.describe(num_features=8)
    'regularized horseshoe, τ ~ C⁺(0, 0.0451754σ) (p₀ = 1 of 8), λ_j ~ C⁺(0, 1), slab c ~ 2·√Inv-Gamma(2, 2)'
    >>> RegularizedHorseshoe(expected_nonzero=0)
    Traceback (most recent call last):
    ...
    ValueError: expected_nonzero must be a positive finite number, got 0
    """

    expected_nonzero: float | None = None
    n_samples: float | None = None
    global_scale: float | None = None
    slab_scale: float = SHRINKAGE.slab_scale
    slab_df: float = SHRINKAGE.slab_df
    kind: ClassVar[str] = "regularized_horseshoe"

    def __post_init__(self):
        for name in ("expected_nonzero", "n_samples", "global_scale", "slab_scale", "slab_df"):
            if getattr(self, name) is not None:
                _check_positive(name, getattr(self, name))

    @staticmethod
    def default_expected_nonzero(num_features: int) -> float:
        """``p₀`` when none is given: ``p/10``, at least 1 and at most ``p/2``.

        Examples
        --------
        >>> from bayesreg.shrinkage import RegularizedHorseshoe
        >>> [RegularizedHorseshoe.default_expected_nonzero(p) for p in (1, 8, 100, 1000)]
        [0.5, 1.0, 10.0, 100.0]
        """
        return min(max(num_features / SHRINKAGE.weights_per_nonzero, 1.0), num_features / 2.0)

    def expected_nonzero_for(self, num_features: int) -> float:
        """``p₀`` in force for ``num_features`` weights (checked to lie in ``(0, p)``).

        Examples
        --------
        >>> from bayesreg.shrinkage import RegularizedHorseshoe
        >>> RegularizedHorseshoe(expected_nonzero=3, n_samples=50).expected_nonzero_for(20)
        3.0
        >>> RegularizedHorseshoe(expected_nonzero=20, n_samples=50).expected_nonzero_for(20)
        Traceback (most recent call last):
        ...
        ValueError: expected_nonzero must be below the number of weights (20), got 20
        """
        if self.expected_nonzero is None:
            return self.default_expected_nonzero(num_features)
        p0 = float(self.expected_nonzero)
        if not p0 < num_features:
            raise ValueError(
                f"expected_nonzero must be below the number of weights ({num_features}), got {p0:g}"
            )
        return p0

    def tau0(self, num_features: int, sigma=1.0):
        """The scale τ₀ of τ's half-Cauchy prior: ``global_scale``, or ``p₀/(p − p₀) · σ/√n``.

        ``sigma`` may be a traced value (the linear model's sampled noise sd).

        Raises
        ------
        ValueError
            If neither ``global_scale`` nor ``n_samples`` is set.

        Examples
        --------
        >>> from bayesreg.shrinkage import RegularizedHorseshoe
        >>> RegularizedHorseshoe(expected_nonzero=5, n_samples=100).tau0(105, sigma=2.0)
        0.01
        >>> RegularizedHorseshoe(global_scale=0.3).tau0(105, sigma=2.0)
        0.3
        """
        if self.global_scale is not None:
            return self.global_scale
        if self.n_samples is None:
            raise ValueError(
                "the regularized horseshoe needs n_samples (the number of rows) to set its global "
                "scale τ₀ = p₀/(p − p₀)·σ/√n, or global_scale to give τ₀ directly"
            )
        p0 = self.expected_nonzero_for(num_features)
        return p0 / (num_features - p0) * sigma / self.n_samples**0.5

    def describe(self, num_features: int | None = None, n_samples: int | None = None) -> str:
        """The hierarchy in one line, with the numbers in force for ``num_features`` weights.

        Examples
        --------
        >>> from bayesreg.shrinkage import RegularizedHorseshoe
        >>> RegularizedHorseshoe(global_scale=0.01, slab_scale=1.0).describe()
        'regularized horseshoe, τ ~ C⁺(0, 0.01), λ_j ~ C⁺(0, 1), slab c ~ 1·√Inv-Gamma(2, 2)'
        """
        half_df = float(self.slab_df) / 2
        slab = f"slab c ~ {float(self.slab_scale):g}·√Inv-Gamma({half_df:g}, {half_df:g})"
        if self.global_scale is not None:
            tau = f"τ ~ C⁺(0, {float(self.global_scale):.6g})"
        elif num_features is None or self.n_samples is None:
            tau = "τ ~ C⁺(0, p₀/(p − p₀)·σ/√n)"
        else:
            p0 = self.expected_nonzero_for(num_features)
            tau = f"τ ~ C⁺(0, {self.tau0(num_features):.6g}σ) (p₀ = {p0:g} of {num_features})"
        return f"regularized horseshoe, {tau}, λ_j ~ C⁺(0, 1), {slab}"

    def penalty(self, coef, *, num_features: int, sigma: float = 1.0, slab: float | None = None):
        """The marginal ``−log p(coef_j)`` of one weight given the slab width c, by 1-D quadrature.

        λ and τ are integrated out (the weight's sd ``cλτ/√(c² + (λτ)²)`` depends on them through
        ``λτ`` only, whose density is known in closed form); the slab width ``c`` is held at
        ``slab`` (default ``slab_scale``). ``−∞`` at 0: no MAP.

        Parameters
        ----------
        coef : array_like
            Values of one weight.
        num_features : int
            p, which sets τ₀ (with ``n_samples``).
        sigma : float, default 1
            σ in τ₀ (`LOGISTIC_PSEUDO_SIGMA` for logistic regression).
        slab : float > 0, optional
            The slab width c.

        Returns
        -------
        numpy.ndarray
            The same shape as ``coef``.

        Examples
        --------
        Far beyond the slab the weight is Gaussian with sd c, so the penalty grows as ``θ²/(2c²)``:

        >>> import numpy as np
        >>> from bayesreg.shrinkage import RegularizedHorseshoe
        >>> pen = RegularizedHorseshoe(global_scale=0.1).penalty([0.0, 20.0, 40.0], num_features=8)
        >>> float(pen[0]), round(float((pen[2] - pen[1]) / ((40**2 - 20**2) / (2 * 2.0**2))), 2)
        (-inf, 1.0)
        """
        width = float(self.slab_scale if slab is None else slab)
        _check_positive("slab", width)
        return _Slabbed(self, width)._penalty(coef, num_features, sigma)

    def _unbounded_at_zero(self, num_features: int) -> bool:
        return True


@dataclasses.dataclass(frozen=True)
class _Slabbed(_ScaleMixture):
    """The regularised horseshoe's scale law for one weight: λτ integrated out, c fixed."""

    prior: RegularizedHorseshoe
    slab: float

    def _mixing(self, v, num_features, sigma):
        # v = log x, x = λτ; s = c·x/√(c² + x²): log s = v − ½ log(1 + x²/c²), smooth in v
        tau0 = float(self.prior.tau0(num_features, sigma))
        log_sd = v - 0.5 * np.logaddexp(0.0, 2.0 * (v - math.log(self.slab)))
        return log_sd, _log_half_cauchy_product_of_log(v, tau0), math.log(tau0)

    def _unbounded_at_zero(self, num_features):
        return True


@dataclasses.dataclass(frozen=True)
class R2D2(_ScaleMixture):
    """The R2-D2 prior (Zhang, Naughton, Bondell & Reich 2020): a prior on R², spread by a Dirichlet.

    .. math::

        R^2 \\sim \\mathrm{Beta}(a, b),\\quad ω = \\frac{R^2}{1 - R^2},\\quad
        φ \\sim \\mathrm{Dirichlet}(a/p, \\dots, a/p),\\quad
        \\mathrm{coef}_j \\mid σ, φ, ω \\sim \\mathrm{DE}\\left(σ\\sqrt{φ_j ω / 2}\\right),

    with ``a = r2_mean · r2_precision``, ``b = (1 − r2_mean) · r2_precision`` (the mean and
    precision of R²'s Beta prior) and DE(β) the Laplace law of scale β (variance ``σ²φ_jω``: with
    standardised columns the explained variance is ``σ²ω`` and ``R² = ω/(1 + ω)``). σ is the linear
    model's noise sd, the pseudo-σ `LOGISTIC_PSEUDO_SIGMA` = 2 for logistic regression (R² on the
    scale of the Gaussian it stands in for).

    It is sampled through equal-in-law independent gammas, which NUTS handles better than a Beta and
    a Dirichlet with small concentrations: ``g_j ~ Gamma(a/p, 1)`` (site ``local``), ``h ~ Gamma(b,
    1)`` (site ``global``), so ``ω = Σg/h ~ BetaPrime(a, b)`` and ``φ = g/Σg ~ Dirichlet(a/p)``,
    independent of ω; the Laplace law is a normal scale mixture with ``ψ_j ~ Exponential(1/2)``
    (site ``psi``): ``coef_j = z_j · σ · √(ψ_j g_j / (2h))``, ``z_j ~ N(0, 1)`` (site ``coef_z``).
    ``r2``, ``phi``, ``omega`` and ``coef`` are deterministic sites. The marginal density of a weight
    is unbounded at 0 when ``a/p ≤ 1/2`` (then no MAP exists).

    Parameters
    ----------
    r2_mean : float in (0, 1), default 0.5
        Prior mean of R².
    r2_precision : float > 0, default 2
        ``a + b``; with the defaults R² is uniform on (0, 1) (brms's defaults).

    Examples
    --------
    >>> from bayesreg.shrinkage import R2D2
    >>> prior = R2D2()
    >>> prior.beta_parameters(), prior.concentration(num_features=4)
    ((1.0, 1.0), 0.25)
    >>> prior.describe(num_features=4)
    'R2D2, R² ~ Beta(1, 1), φ ~ Dirichlet(0.25), coef_j ~ DE(σ√(φ_j ω/2))'
    """

    r2_mean: float = SHRINKAGE.r2_mean
    r2_precision: float = SHRINKAGE.r2_precision
    kind: ClassVar[str] = "r2d2"
    kernel: ClassVar[str] = "laplace"

    def __post_init__(self):
        if isinstance(self.r2_mean, numbers.Real):
            check_param("r2_mean", self.r2_mean, Interval(integer=False, low=0.0, high=1.0))
        _check_positive("r2_precision", self.r2_precision)

    def beta_parameters(self) -> tuple:
        """``(a, b)`` of R²'s Beta prior.

        Examples
        --------
        >>> from bayesreg.shrinkage import R2D2
        >>> R2D2(r2_mean=0.2, r2_precision=10.0).beta_parameters()
        (2.0, 8.0)
        """
        a = self.r2_mean * self.r2_precision
        return a, self.r2_precision - a

    def concentration(self, num_features: int):
        """``a/p``: the Dirichlet concentration of each weight's share φ_j.

        Examples
        --------
        >>> from bayesreg.shrinkage import R2D2
        >>> R2D2().concentration(num_features=10)
        0.1
        """
        return self.beta_parameters()[0] / num_features

    def describe(self, num_features: int | None = None, n_samples: int | None = None) -> str:
        """The hierarchy in one line.

        Examples
        --------
        >>> from bayesreg.shrinkage import R2D2
        >>> R2D2(0.3, 10.0).describe()
        'R2D2, R² ~ Beta(3, 7), φ ~ Dirichlet(a/p), coef_j ~ DE(σ√(φ_j ω/2))'
        """
        a, b = (float(v) for v in self.beta_parameters())
        shares = "a/p" if num_features is None else f"{a / num_features:g}"
        return f"R2D2, R² ~ Beta({a:g}, {b:g}), φ ~ Dirichlet({shares}), coef_j ~ DE(σ√(φ_j ω/2))"

    def penalty(self, coef, *, num_features: int, sigma: float = 1.0):
        """The marginal ``−log p(coef_j)`` of one weight, by 1-D quadrature.

        ``w = φ_j ω ~ BetaPrime(a/p, b)`` (Zhang et al. 2020, Proposition 1) and ``coef_j | w`` is
        Laplace of scale ``σ√(w/2)``, so one integral over ``log w`` gives the density.

        Parameters
        ----------
        coef : array_like
            Values of one weight.
        num_features : int
            p, which sets the concentration ``a/p``.
        sigma : float, default 1
            σ (`LOGISTIC_PSEUDO_SIGMA` for logistic regression).

        Returns
        -------
        numpy.ndarray
            The same shape as ``coef``; ``−∞`` at 0 when ``a/p ≤ 1/2``.

        Examples
        --------
        >>> import numpy as np
        >>> from bayesreg.shrinkage import R2D2
        >>> theta = np.linspace(-60.0, 60.0, 20_001)
        >>> density = np.exp(-R2D2(r2_precision=20.0).penalty(theta, num_features=2))  # a/p = 5: bounded
        >>> round(float(np.trapezoid(density, theta)), 3)
        1.0
        """
        return self._penalty(coef, num_features, sigma)

    def _mixing(self, u, num_features, sigma):
        # u = log s, s = σ√(w/2): log w = 2(u − log σ) + log 2, d log w / du = 2
        a_pi, b = self.concentration(num_features), self.beta_parameters()[1]
        log_w = 2.0 * (np.asarray(u, dtype=float) - math.log(sigma)) + math.log(2.0)
        # BetaPrime(a/p, b) of w, as a density of log w (+ log w), times d log w / du = 2
        density = (
            a_pi * log_w - (a_pi + b) * np.logaddexp(0.0, log_w) - special.betaln(a_pi, b) + math.log(2.0)
        )
        return u, density, math.log(sigma)

    def _unbounded_at_zero(self, num_features: int) -> bool:
        return self.concentration(num_features) <= 0.5


SHRINKAGE_PRIORS = {"horseshoe": Horseshoe, "regularized_horseshoe": RegularizedHorseshoe, "r2d2": R2D2}
"""The sparsity priors by the name ``prior=`` takes."""


def shrinkage_prior(name: str, **options):
    """The prior ``name`` of `SHRINKAGE_PRIORS` with ``options``.

    Parameters
    ----------
    name : {"horseshoe", "regularized_horseshoe", "r2d2"}
    **options
        The prior's parameters (``global_scale``; ``expected_nonzero``, ``n_samples``,
        ``slab_scale``, ``slab_df``; ``r2_mean``, ``r2_precision``).

    Returns
    -------
    Horseshoe, RegularizedHorseshoe or R2D2

    Raises
    ------
    ValueError
        For an unknown name or option.

    Examples
    --------
    >>> from bayesreg.shrinkage import shrinkage_prior
    >>> shrinkage_prior("regularized_horseshoe", n_samples=100, expected_nonzero=5)
    RegularizedHorseshoe(expected_nonzero=5, n_samples=100, global_scale=None, slab_scale=2.0, slab_df=4.0)
    >>> shrinkage_prior("r2d2", r2_mean=0.3, slab_scale=1.0)
    Traceback (most recent call last):
    ...
    ValueError: r2d2 takes the options r2_mean, r2_precision, not slab_scale
    """
    if name not in SHRINKAGE_PRIORS:
        raise ValueError(f"unknown shrinkage prior {name!r}; expected one of {', '.join(SHRINKAGE_PRIORS)}")
    cls = SHRINKAGE_PRIORS[name]
    fields = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise ValueError(f"{name} takes the options {', '.join(fields)}, not {', '.join(unknown)}")
    return cls(**options)


# the numbers a compiled program may take as arrays are leaves; the regularised horseshoe's p₀ and n
# are checked against p when the model is traced and set τ₀'s formula, so they are static
jax.tree_util.register_dataclass(Horseshoe, data_fields=["global_scale"], meta_fields=[])
jax.tree_util.register_dataclass(
    RegularizedHorseshoe,
    data_fields=["global_scale", "slab_scale", "slab_df"],
    meta_fields=["expected_nonzero", "n_samples"],
)
jax.tree_util.register_dataclass(R2D2, data_fields=["r2_mean", "r2_precision"], meta_fields=[])
