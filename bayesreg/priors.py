"""Penalties as priors, and back.

A norm penalty added to a negative log-likelihood is the negative log-density of a prior on the
weights (DIGEST.md, claims 13-15). Every prior here is written as

.. math::

    -\\log p(w) = \\lambda_1 \\lVert w \\rVert_1 + \\tfrac{\\lambda_2}{2} \\lVert w \\rVert_2^2 + c,

a Laplace prior (``λ₂ = 0``, scale ``b = 1/λ₁``), a Gaussian prior (``λ₁ = 0``, sd ``1/√λ₂``) or the
elastic-net prior (both). A *convention* fixes how a library's penalty strength ``α`` maps to
``(λ₁, λ₂)``; σ is the noise sd of a Gaussian likelihood and n the number of rows.

============  =====================================================  ============  ==============
convention    objective                                              λ₁            λ₂
============  =====================================================  ============  ==============
book          NLL + α‖w‖₁ ; NLL + (α/2)‖w‖²                          α             α
book, EN      NLL + αρ‖w‖₁ + (α(1−ρ)/2)‖w‖²                          αρ            α(1−ρ)
sklearn       Lasso  (1/2n)‖y−Xw‖² + α‖w‖₁                           nα/σ²         0
sklearn       Ridge  ‖y−Xw‖² + α‖w‖²                                 0             α/σ²
sklearn       ElasticNet (1/2n)‖r‖² + αρ‖w‖₁ + (α(1−ρ)/2)‖w‖²        nαρ/σ²        nα(1−ρ)/σ²
sklearn       LogisticRegression C·Σ logloss + penalty (α = 1/C)     ρ/C           (1−ρ)/C
sklearn       PoissonRegressor (1/2n)·deviance + (α/2)‖w‖²           0             nα
glum          (1/2n)·deviance + αρ‖w‖₁ + (α(1−ρ)/2)‖w‖²              nαρ           nα(1−ρ)
statsmodels   −loglike/n + αρ‖w‖₁ + (α(1−ρ)/2)‖w‖² (ρ = L1_wt)       nαρ           nα(1−ρ)
============  =====================================================  ============  ==============

In the scikit-learn convention for a Gaussian likelihood the prior precisions scale with 1/σ²: the
prior is conditional on the noise sd, so the MAP of the weights is the penalised solution whatever σ
is (``Prior.noise_scaled``). glum's and statsmodels' (``OLS.fit_regularized``) Gaussian objectives
are scikit-learn's ElasticNet one, so there the rates are divided by σ² too (glum's L2 penalty then
differs from ``Ridge``'s by the factor n).

For the Bernoulli, Poisson and negative binomial (fixed dispersion α) likelihoods half the deviance
is the negative log-likelihood minus a constant, so glum's ``GeneralizedLinearRegressor`` and
statsmodels' ``GLM.fit_regularized`` share one convention there, and ``PoissonRegressor`` is its L2
case. scikit-learn has no L1 Poisson and no negative binomial regression, and no library here fits
a penalised Student-t regression: those combinations have the book convention only.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
from jax.scipy.special import erfcx
from numpyro.distributions import constraints
from numpyro.distributions.util import promote_shapes, validate_sample

from bayesreg.defaults import L1_RATIO
from bayesreg.params import CONVENTIONS, FAMILIES, Options, check_param

__all__ = [
    # priors on the weights, from penalties and back
    "ElasticNet",
    "Prior",
    "penalty_from_prior",
    "prior_from_penalty",
    # the prior on the noise sd
    "noise_prior",
]


PriorKind = Literal["gaussian", "laplace", "elasticnet"]
Convention = Literal["sklearn", "book", "glum", "statsmodels"]
Family = Literal["gaussian", "bernoulli", "poisson", "negative_binomial", "student_t"]


class ElasticNet(dist.Distribution):
    """The elastic-net prior: a proper density proportional to ``exp(-l1|w| - l2 w²/2)``.

    .. math::

        p(w) = \\frac{1}{Z} \\exp\\left(-\\lambda_1 |w| - \\tfrac{\\lambda_2}{2} w^2\\right),\\qquad
        Z = 2\\sqrt{2\\pi/\\lambda_2}\\; \\exp\\!\\left(\\tfrac{\\lambda_1^2}{2\\lambda_2}\\right)
            \\Phi\\!\\left(-\\lambda_1/\\sqrt{\\lambda_2}\\right).

    Each half is a normal ``N(-λ₁/λ₂, 1/λ₂)`` truncated to ``w > 0`` (mirrored for ``w < 0``).

    Parameters
    ----------
    l1 : array_like, > 0
        Weight of ``|w|`` in the negative log-density (the Laplace rate).
    l2 : array_like, > 0
        Weight of ``w²/2`` in the negative log-density (the Gaussian precision).

    Examples
    --------
    The density is ``exp(−λ₁|w| − λ₂w²/2)`` up to a constant, and it integrates to 1:

    >>> import jax, numpy as np
    >>> from bayesreg.priors import ElasticNet
    >>> d = ElasticNet(l1=1.0, l2=2.0)
    >>> w = np.linspace(-12.0, 12.0, 24_001)
    >>> log_density = np.asarray(jax.jit(d.log_prob)(w))  # one compilation for the whole formula
    >>> round(float(np.trapezoid(np.exp(log_density), w)), 5)
    1.0
    >>> log_normaliser = -(log_density + 1.0 * np.abs(w) + 2.0 * w**2 / 2)
    >>> bool(np.allclose(log_normaliser, log_normaliser[0]))
    True
    """

    arg_constraints = {"l1": constraints.positive, "l2": constraints.positive}
    support = constraints.real

    def __init__(self, l1=1.0, l2=1.0, *, validate_args=None):
        dtype = jnp.result_type(float)
        self.l1, self.l2 = promote_shapes(jnp.asarray(l1, dtype), jnp.asarray(l2, dtype))
        batch_shape = jax.lax.broadcast_shapes(jnp.shape(l1), jnp.shape(l2))
        super().__init__(batch_shape=batch_shape, validate_args=validate_args)

    def _ratio(self):
        """``a = λ₁/√λ₂``: how far the Laplace part dominates (the truncation point in sds)."""
        return self.l1 * jax.lax.rsqrt(self.l2)

    def _log_normaliser(self):
        # Z = 2 √(π/(2λ₂)) erfcx(a/√2), with erfcx(x) = exp(x²) erfc(x) stable for large a
        return (
            jnp.log(2.0)
            + 0.5 * jnp.log(0.5 * jnp.pi / self.l2)
            + jnp.log(erfcx(self._ratio() / jnp.sqrt(2.0)))
        )

    @validate_sample
    def log_prob(self, value):
        return -self.l1 * jnp.abs(value) - 0.5 * self.l2 * value**2 - self._log_normaliser()

    def sample(self, key, sample_shape=()):
        shape = sample_shape + self.batch_shape
        key_sign, key_normal, key_tail = jax.random.split(key, 3)
        sd = jax.lax.rsqrt(self.l2)
        # |w| has density ∝ exp(-λ₁w − λ₂w²/2) on w > 0: a truncated normal, sampled by inversion
        # while the truncation point a is moderate, by rejection from Exponential(λ₁) beyond
        # (acceptance exp(−λ₂w²/2) ≥ 1 − 1/a² on average there), where inversion overflows.
        normal = dist.TruncatedNormal(-self.l1 * sd**2, sd, low=0.0).sample(key_normal, sample_shape)
        in_tail = jnp.broadcast_to(self._ratio() > _TAIL, shape)
        half = jnp.where(in_tail, _exponential_rejection(key_tail, self.l1, self.l2, in_tail), normal)
        sign = jnp.where(jax.random.bernoulli(key_sign, 0.5, shape), 1.0, -1.0)
        return sign * half

    @property
    def mean(self):
        return jnp.zeros(self.batch_shape)

    @property
    def variance(self):
        # E[w²] = (1/λ₂)(1 + a² − a/R(a)) with Mills' ratio R(a) = Φ(−a)/φ(a) = √(π/2) erfcx(a/√2).
        # For large a the bracket cancels (relative error ≈ eps·a⁴); its asymptotic series
        # 2t − 10t² + 74t³ − 706t⁴ + 8162t⁵, t = 1/a², has relative error ≈ 55205·t⁵: switch where the
        # two errors cross for the dtype in use (a ≈ 8 in float32, 30 in float64).
        a = self._ratio()
        direct = 1.0 + a**2 - a / (jnp.sqrt(0.5 * jnp.pi) * erfcx(a / jnp.sqrt(2.0)))
        t = 1.0 / a**2
        series = t * (2.0 + t * (-10.0 + t * (74.0 + t * (-706.0 + 8162.0 * t))))
        switch = 30.0 if jnp.finfo(jnp.result_type(a)).bits == 64 else 8.0
        return jnp.where(a > switch, series, direct) / self.l2


_TAIL = 5.0  # truncation point (in sds) beyond which ElasticNet samples |w| by rejection


def _exponential_rejection(key, l1, l2, wanted):
    """Draws of density ∝ exp(−l1·w − l2·w²/2), w > 0, by rejection from Exponential(l1).

    Only the entries where ``wanted`` is true are drawn (elsewhere the result is 0): acceptance is
    high only in the tail regime, so the others would loop for long.
    """

    def draw(state):
        key, value, done = state
        key, key_exp, key_unif = jax.random.split(key, 3)
        proposal = jax.random.exponential(key_exp, wanted.shape) / l1
        accept = jnp.log(jax.random.uniform(key_unif, wanted.shape)) <= -0.5 * l2 * proposal**2
        return key, jnp.where(done, value, proposal), done | accept

    zeros = jnp.zeros(wanted.shape, jnp.result_type(l1))
    _, value, _ = jax.lax.while_loop(lambda s: ~jnp.all(s[2]), draw, (key, zeros, ~wanted))
    return value


@dataclasses.dataclass(frozen=True)
class Prior:
    """Independent prior on each weight, ``-log p(w) = l1‖w‖₁ + (l2/2)‖w‖² + const``.

    Parameters
    ----------
    kind : {"gaussian", "laplace", "elasticnet"}
        Which terms are present (static: it decides the distribution family).
    l1, l2 : float
        Rate of the Laplace part and precision of the Gaussian part, at unit noise variance when
        ``noise_scaled`` (these are pytree leaves, so a jitted function can take new values without
        recompiling).
    noise_scaled : bool
        If true the prior is conditional on the noise sd σ of a Gaussian likelihood: the precisions
        used are ``l1/σ²`` and ``l2/σ²`` (the scikit-learn convention).

    Examples
    --------
    A noise-scaled Laplace prior: its rate at σ = 2 is ``10/2² = 2.5``, its scale ``1/2.5 = 0.4``.

    >>> from bayesreg.priors import Prior
    >>> prior = Prior("laplace", l1=10.0, noise_scaled=True)
    >>> prior.rates(sigma=2.0)
    (2.5, 0.0)
    >>> prior.describe(sigma=2.0)
    'Laplace(0, 0.4)'
    >>> prior.distribution(3, sigma=2.0).event_shape  # the prior of a 3-weight vector
    (3,)
    >>> Prior("elasticnet", 1.0, 4.0).smooth_part()  # what stays in the gradient step
    Prior(kind='gaussian', l1=0.0, l2=4.0, noise_scaled=False)
    """

    kind: PriorKind
    l1: float | jax.Array = 0.0
    l2: float | jax.Array = 0.0
    noise_scaled: bool = False

    def rates(self, sigma=1.0):
        """``(λ₁, λ₂)`` in force for noise sd ``sigma``."""
        factor = 1.0 / (sigma * sigma) if self.noise_scaled else 1.0  # floats stay Python floats
        return self.l1 * factor, self.l2 * factor

    def distribution(self, num_features: int, sigma=1.0) -> dist.Distribution:
        """The prior on a weight vector of shape ``(num_features,)`` given the noise sd."""
        l1, l2 = self.rates(sigma)
        shape = (num_features,)
        if self.kind == "laplace":
            d = dist.Laplace(0.0, 1.0 / l1)
        elif self.kind == "gaussian":
            d = dist.Normal(0.0, jax.lax.rsqrt(jnp.asarray(l2, dtype=float)))
        else:
            d = ElasticNet(l1, l2)
        return d.expand(shape).to_event(1)

    def smooth_part(self) -> Prior | None:
        """The prior without its ``l1‖w‖₁`` term (``None`` when nothing is left: a flat prior)."""
        if self.kind == "laplace":
            return None
        return Prior("gaussian", 0.0, self.l2, self.noise_scaled)

    def describe(self, sigma=1.0) -> str:
        """The prior on each weight in words, with the numbers in force for noise sd ``sigma``.

        Examples
        --------
        >>> Prior("laplace", 4.0).describe()
        'Laplace(0, 0.25)'
        >>> Prior("elasticnet", 2.0, 4.0, noise_scaled=True).describe(sigma=2.0)
        'elastic net, density ∝ Laplace(0, 2) x Normal(0, 1)'
        """
        l1, l2 = (float(v) for v in self.rates(sigma))
        parts = []
        if l1 > 0:
            parts.append(f"Laplace(0, {1.0 / l1:.6g})")
        if l2 > 0:
            parts.append(f"Normal(0, {1.0 / math.sqrt(l2):.6g})")
        return parts[0] if len(parts) == 1 else f"elastic net, density ∝ {' x '.join(parts)}"

    @property
    def laplace_scale(self) -> float:
        """Scale ``b = 1/λ₁`` of the Laplace part (at unit noise variance if noise-scaled)."""
        return 1.0 / self.l1 if self.kind != "gaussian" else math.inf

    @property
    def gaussian_sd(self) -> float:
        """Standard deviation ``1/√λ₂`` of the Gaussian part (at unit noise variance if noise-scaled)."""
        return 1.0 / math.sqrt(self.l2) if self.kind != "laplace" else math.inf


jax.tree_util.register_dataclass(Prior, data_fields=["l1", "l2"], meta_fields=["kind", "noise_scaled"])


def _objective_scaling(kind: str, convention: str, family: str) -> tuple[bool, bool]:
    """How ``convention``'s objective for ``family`` scales the penalty: ``(per_row, noise_scaled)``,
    whether the rates are ``n`` times α's terms (the loss is a mean over the rows) and whether they
    are per unit noise variance (the squared error is not divided by σ²). Raises for a combination
    no library defines."""
    if convention == "book":
        return False, False
    if family == "student_t":
        raise ValueError(
            f"family='student_t' with convention {convention!r}: the convention has no Student-t "
            "objective (scikit-learn, glum and statsmodels fit no penalised Student-t regression); "
            "use convention='book'"
        )
    if convention == "sklearn":
        if family == "bernoulli":  # LogisticRegression: C·Σ logloss + penalty, α = 1/C
            return False, False
        if family == "gaussian":  # Ridge sums the squared error, Lasso / ElasticNet average it
            return kind != "gaussian", True
        if family == "poisson" and kind == "gaussian":  # PoissonRegressor
            return True, False
        if family == "poisson":
            raise ValueError(
                f"prior {kind!r} with family='poisson' and convention='sklearn': scikit-learn's "
                "PoissonRegressor has an L2 penalty only; for an L1 or elastic-net penalty use "
                "convention='glum' or 'statsmodels' (the same objective with the L1 term)"
            )
        raise ValueError(
            "family='negative_binomial' with convention='sklearn': scikit-learn has no negative "
            "binomial regression; use convention='glum', 'statsmodels' or 'book'"
        )
    return True, family == "gaussian"  # glum, statsmodels: the mean loss (half the mean deviance)


def _check_convention(convention, family):
    return check_param("convention", convention, Options(CONVENTIONS)), check_param(
        "family", family, Options(FAMILIES)
    )


def prior_from_penalty(
    kind: PriorKind,
    alpha: float,
    *,
    l1_ratio: float = L1_RATIO,
    convention: Convention = "sklearn",
    family: Family = "gaussian",
    n_samples: int | None = None,
) -> Prior:
    """The prior whose MAP is the penalised estimate with strength ``alpha``.

    Parameters
    ----------
    kind : {"gaussian", "laplace", "elasticnet"}
        L2 penalty, L1 penalty, or their mix.
    alpha : float > 0
        Penalty strength as the convention defines it (for scikit-learn's LogisticRegression pass
        ``alpha = 1/C``).
    l1_ratio : float in (0, 1)
        Share ρ of the L1 term in the elastic net (ignored otherwise): glum's ``l1_ratio``,
        statsmodels' ``L1_wt``.
    convention : {"sklearn", "book", "glum", "statsmodels"}
        ``"book"``: the objective is NLL + α‖w‖₁, NLL + (α/2)‖w‖², or NLL + αρ‖w‖₁ + (α(1−ρ)/2)‖w‖².
        ``"sklearn"``: Lasso / Ridge / ElasticNet objectives for ``family="gaussian"`` (the prior is
        then conditional on the noise sd), LogisticRegression's for ``family="bernoulli"``,
        PoissonRegressor's (L2 only) for ``family="poisson"``. ``"glum"``: glum's
        ``GeneralizedLinearRegressor``, ``(1/2n)·deviance + αρ‖w‖₁ + (α(1−ρ)/2)‖w‖²``.
        ``"statsmodels"``: ``fit_regularized`` of ``GLM`` (``−loglike/n`` plus the same penalty)
        and, for the Gaussian family, of ``OLS`` (``RSS/(2n)`` plus it). The module docstring has
        the table.
    family : {"gaussian", "bernoulli", "poisson", "negative_binomial", "student_t"}
        Likelihood the penalty is added to (the negative binomial's dispersion fixed).
    n_samples : int
        Number of rows n; needed by the objectives that average the loss over the rows (scikit-learn's
        Lasso, ElasticNet and PoissonRegressor, glum, statsmodels).

    Returns
    -------
    Prior

    Raises
    ------
    ValueError
        For a convention that defines no objective for ``family`` and ``kind`` (scikit-learn's
        L1 Poisson or negative binomial, any library's Student-t), naming the ones that do.

    Examples
    --------
    scikit-learn's ``Lasso(alpha=0.1)`` on 100 rows is the MAP under a Laplace prior of scale
    ``σ²/(nα) = 0.1`` at σ = 1; ``Ridge(alpha=4)`` under a Normal prior of sd ``σ/√α``; a
    ``LogisticRegression(C=4)`` with the L2 penalty under a Normal prior of sd ``√C``:

    >>> from bayesreg.priors import prior_from_penalty
    >>> lasso = prior_from_penalty("laplace", 0.1, n_samples=100)
    >>> lasso
    Prior(kind='laplace', l1=10.0, l2=0.0, noise_scaled=True)
    >>> lasso.describe(sigma=1.0), lasso.describe(sigma=2.0)
    ('Laplace(0, 0.1)', 'Laplace(0, 0.4)')
    >>> prior_from_penalty("gaussian", 4.0).describe(sigma=2.0)
    'Normal(0, 1)'
    >>> prior_from_penalty("gaussian", 1 / 4, family="bernoulli").describe()
    'Normal(0, 2)'

    glum's ``GeneralizedLinearRegressor(family="poisson", alpha=0.01, l1_ratio=1)`` on 50 rows is a
    Laplace prior of rate ``nα = 0.5``, statsmodels' ``GLM(...).fit_regularized(alpha=0.01,
    L1_wt=1)`` the same, and ``PoissonRegressor(alpha=0.01)`` a Normal prior of precision ``nα``:

    >>> prior_from_penalty("laplace", 0.01, convention="glum", family="poisson", n_samples=50).describe()
    'Laplace(0, 2)'
    >>> prior_from_penalty("laplace", 0.01, convention="statsmodels", family="poisson", n_samples=50)
    Prior(kind='laplace', l1=0.5, l2=0.0, noise_scaled=False)
    >>> prior_from_penalty("gaussian", 0.02, family="poisson", n_samples=50).describe()
    'Normal(0, 1)'
    """
    kind = check_param("prior", kind)
    convention, family = _check_convention(convention, family)
    alpha = check_param("alpha", alpha)
    rho = {"laplace": 1.0, "gaussian": 0.0}.get(kind)
    if rho is None:
        rho = check_param("l1_ratio", l1_ratio)
    per_row, noise_scaled = _objective_scaling(kind, convention, family)
    factor = _rows(n_samples, convention) if per_row else 1.0
    return Prior(kind, factor * alpha * rho, factor * alpha * (1.0 - rho), noise_scaled=noise_scaled)


def _rows(n_samples, convention) -> float:
    if n_samples is None or int(n_samples) < 1:
        raise ValueError(
            f"n_samples is needed for the {convention} convention here: its objective averages the "
            "loss over the rows"
        )
    return float(int(n_samples))


def penalty_from_prior(
    prior: Prior | dist.Distribution,
    *,
    convention: Convention = "sklearn",
    family: Family = "gaussian",
    n_samples: int | None = None,
    sigma: float = 1.0,
) -> dict:
    """The penalty whose minimiser is the MAP under ``prior``: the inverse of `prior_from_penalty`.

    Parameters
    ----------
    prior : Prior or numpyro Laplace / Normal (location 0) / ElasticNet distribution
        A prior on each weight.
    convention, family, n_samples
        As in `prior_from_penalty`.
    sigma : float
        Noise sd of the Gaussian (or scale of the Student-t) likelihood: the σ at which a
        noise-scaled prior's rates are read, and with which the Gaussian conventions that are
        conditional on σ turn a prior that is not into a penalty. Other families read a
        noise-scaled prior at σ = 1, as their models do.

    Returns
    -------
    dict
        ``{"kind": ..., "alpha": ..., "l1_ratio": ...}`` (for LogisticRegression, ``C = 1/alpha``).

    Examples
    --------
    A Laplace prior of scale 0.1 (σ = 1, 100 rows) is scikit-learn's ``Lasso(alpha=0.1)``; a
    Normal(0, 2) prior in a logistic model is ``LogisticRegression(C=4)``; and the round trip
    through `prior_from_penalty` gives back the penalty:

    >>> import numpyro.distributions as dist
    >>> from bayesreg.priors import penalty_from_prior, prior_from_penalty
    >>> penalty_from_prior(dist.Laplace(0.0, 0.1), n_samples=100)
    {'kind': 'laplace', 'alpha': 0.1, 'l1_ratio': 1.0}
    >>> penalty_from_prior(dist.Normal(0.0, 2.0), family="bernoulli")
    {'kind': 'gaussian', 'alpha': 0.25, 'l1_ratio': 0.0}
    >>> prior = prior_from_penalty("elasticnet", 0.5, l1_ratio=0.3, n_samples=20)
    >>> penalty_from_prior(prior, n_samples=20)
    {'kind': 'elasticnet', 'alpha': 0.5, 'l1_ratio': 0.3}

    A Laplace(0, 2) prior in a Poisson model on 50 rows is glum's ``alpha=0.01, l1_ratio=1``:

    >>> penalty_from_prior(dist.Laplace(0.0, 2.0), convention="glum", family="poisson", n_samples=50)
    {'kind': 'laplace', 'alpha': 0.01, 'l1_ratio': 1.0}
    """
    convention, family = _check_convention(convention, family)
    if not isinstance(prior, Prior):
        prior = _prior_of_distribution(prior)
    per_row, noise_scaled = _objective_scaling(prior.kind, convention, family)
    l1, l2 = prior.rates(sigma if family in ("gaussian", "student_t") else 1.0)
    l1, l2 = float(l1), float(l2)
    if noise_scaled:  # undo the 1/σ² that makes these per-unit-noise-variance precisions
        l1, l2 = l1 * sigma**2, l2 * sigma**2
    if per_row:
        n = _rows(n_samples, convention)
        l1, l2 = l1 / n, l2 / n
    alpha = l1 + l2
    return {"kind": prior.kind, "alpha": alpha, "l1_ratio": l1 / alpha}


def _prior_of_distribution(d: dist.Distribution) -> Prior:
    while isinstance(d, dist.Independent | dist.ExpandedDistribution):
        d = d.base_dist
    if isinstance(d, dist.Laplace):
        _require_zero_location(d.loc)
        return Prior("laplace", float(1.0 / jnp.max(d.scale)), 0.0)
    if isinstance(d, dist.Normal):
        _require_zero_location(d.loc)
        return Prior("gaussian", 0.0, float(1.0 / jnp.max(d.scale) ** 2))
    if isinstance(d, ElasticNet):
        return Prior("elasticnet", float(jnp.max(d.l1)), float(jnp.max(d.l2)))
    raise ValueError(f"no norm penalty corresponds to a {type(d).__name__} prior")


def _require_zero_location(loc) -> None:
    if jnp.any(jnp.asarray(loc) != 0):
        raise ValueError("a norm penalty corresponds to a prior centred at 0")


def noise_prior(y=None, *, sd: float | None = None) -> dist.Exponential:
    """The prior of the linear model's noise sd σ when σ is not given: Exponential with mean ``std(y)``.

    The residual sd of a least-squares fit with an intercept is at most ``std(y)`` (the
    intercept-only fit's), so the prior puts its mean at the largest σ the data make plausible, its
    mode at 0, and little mass far beyond (``P(σ > 3·std(y)) = e⁻³ ≈ 5%``): weakly informative on the
    data's own scale. It scales with ``y``, so a change of units of the target changes σ's posterior
    by the same factor and nothing else. A constant target gets a rate of 1e12 rather than infinity.

    Parameters
    ----------
    y : array_like, shape (n_samples,), optional
        The target.
    sd : float, optional
        The target's population sd (``ddof=0``) instead of the target, where only its statistics
        are at hand (`bayesreg.large` computes it in one pass over data that do not fit in memory).
        Give ``y`` or ``sd``, not both.

    Returns
    -------
    numpyro.distributions.Exponential
        Rate ``1/max(std(y), 1e-12)`` (``std`` with ``ddof=0``), or ``1/max(sd, 1e-12)``.

    Raises
    ------
    ValueError
        If neither or both of ``y`` and ``sd`` are given, or ``sd`` is negative or not finite.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.priors import noise_prior
    >>> y = np.array([1.0, 2.0, 3.0, 6.0])
    >>> sigma = noise_prior(y)
    >>> type(sigma).__name__, round(float(sigma.mean), 4), round(float(np.std(y)), 4)
    ('Exponential', 1.8708, 1.8708)
    >>> float(noise_prior(sd=np.std(y)).rate) == float(sigma.rate)
    True
    """
    if (y is None) == (sd is None):
        raise ValueError("noise_prior takes the target y or its sd (sd=...), exactly one of them")
    if sd is None:
        sd = np.std(y)
    elif not (np.isfinite(sd) and sd >= 0):
        raise ValueError(f"noise_prior: sd must be a finite number >= 0, got {sd!r}")
    return dist.Exponential(1.0 / max(float(sd), 1e-12))
