"""NumPyro sites of the sparsity priors of `bayesreg.shrinkage`, non-centred or data-conditioned.

Each prior writes ``coef = z · s`` with ``z ~ N(0, 1)`` (site ``coef_z``) and the weight's sd ``s``
built from the prior's scale sites, so NUTS moves on ``z`` and the logs of the scales and never
meets the funnel of a centred ``coef`` given a small scale; ``coef`` itself is a deterministic site
of shape ``(p,)``, which every model and the posterior's ``coef`` variable keep. The hierarchies are
written out in `bayesreg.shrinkage`.

Where the data pin a weight down (a count likelihood with many rows) the non-centred form has the
opposite funnel: ``coef`` is nearly fixed, so ``z = coef / s`` moves as ``1/s`` with the scales; a
centred ``coef`` has the funnel where the scale is small. With a Gaussian approximation of the
likelihood in each weight (`WeightConditioning`: ``log p(y | coef_j) ≈ b_j coef_j − ℓ_j coef_j²/2``)
the sampled site is instead ``coef_c``, each weight standardised by its conditional posterior given
its scale under that approximation, ``N(m_j(s), 1/(ℓ_j + s_j⁻²))`` with ``m_j(s) = b_j/(ℓ_j +
s_j⁻²)``: ``coef_j = m_j(s) + coef_c,j/√(ℓ_j + s_j⁻²)``, ``coef_c,j`` under the prior
``N(−m_j(s)√(ℓ_j + s_j⁻²), s_j²(ℓ_j + s_j⁻²))`` that makes ``coef_j ~ N(0, s_j²)`` exactly. So the
posterior is the same for any ``(ℓ, b)``; only the geometry changes: where the approximation holds,
``coef_c`` given the scales is ``N(0, 1)`` whatever the scales, so neither funnel is left (``ℓ = 0``
is the non-centred form, ``ℓ → ∞`` with ``b = ℓ ĉ`` the centred one shifted by the data's
estimate ``ĉ``). ``coef_z`` is then the deterministic ``coef / s``, as the Gibbs sampler and the
collapsed form report it.

``sigma`` is the linear model's noise sd (a number or a sampled value); ``None`` means there is none
(logistic regression): the horseshoe then uses 1, the regularised horseshoe and R2D2 the pseudo-σ
`~bayesreg.shrinkage.LOGISTIC_PSEUDO_SIGMA`.

The hierarchical priors of `bayesreg.hierarchical` (a hyperprior on the penalty's global scale) are
sampled the same way: the Bayesian lasso as ``coef = z · σ · √ψ / λ`` with ``ψ_j ~ Exponential(1/2)``
(site ``psi``) and ``λ² ~ Gamma(r, δ)`` (site ``lambda_sq``), ridge as ``coef = z · τ · σ`` with
``τ ~ C⁺(0, s)`` (site ``tau``); for logistic regression σ = 1.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist

from bayesreg.hierarchical import HierarchicalGaussian, HierarchicalLaplace
from bayesreg.shrinkage import LOGISTIC_PSEUDO_SIGMA, R2D2, Horseshoe, RegularizedHorseshoe

__all__ = [
    "SHRINKAGE_TYPES",
    "ShrinkagePrior",
    "WeightConditioning",
    "sample_shrinkage_coef",
    "sample_shrinkage_variance",
]

SHRINKAGE_TYPES = (Horseshoe, RegularizedHorseshoe, R2D2, HierarchicalLaplace, HierarchicalGaussian)
"""The prior types `sample_shrinkage_coef` samples: the sparsity priors of `bayesreg.shrinkage` and
the hierarchical priors of `bayesreg.hierarchical`. None has a MAP (each density is unbounded where
every weight and the global scale go to 0 together)."""

ShrinkagePrior = Horseshoe | RegularizedHorseshoe | R2D2 | HierarchicalLaplace | HierarchicalGaussian
"""The type of a prior of `SHRINKAGE_TYPES` (for annotations)."""


def _standard_normal(num_features: int):
    return numpyro.sample("coef_z", dist.Normal(0.0, 1.0).expand((num_features,)).to_event(1))


def _half_cauchy(name: str, scale, num_features: int | None = None):
    d = dist.HalfCauchy(scale)
    return numpyro.sample(name, d if num_features is None else d.expand((num_features,)).to_event(1))


def _horseshoe(prior: Horseshoe, num_features: int, sigma):
    tau = _half_cauchy("tau", prior.global_scale)
    lam = _half_cauchy("lambda", jnp.ones(()), num_features)
    return lam * tau * (1.0 if sigma is None else sigma)


def _regularized_horseshoe(prior: RegularizedHorseshoe, num_features: int, sigma):
    tau0 = prior.tau0(num_features, LOGISTIC_PSEUDO_SIGMA if sigma is None else sigma)
    tau = _half_cauchy("tau", tau0)
    lam = _half_cauchy("lambda", jnp.ones(()), num_features)
    half_df = 0.5 * prior.slab_df
    slab_aux = numpyro.sample("slab_aux", dist.InverseGamma(half_df, half_df))
    slab = numpyro.deterministic("slab", prior.slab_scale * jnp.sqrt(slab_aux))
    # τ·λ̃ = c·τλ/√(c² + (τλ)²)
    tau_lam = tau * lam
    return slab * tau_lam / jnp.sqrt(slab**2 + tau_lam**2)


def _r2d2(prior: R2D2, num_features: int, sigma):
    a, b = prior.beta_parameters()
    local = numpyro.sample("local", dist.Gamma(a / num_features, 1.0).expand((num_features,)).to_event(1))
    glob = numpyro.sample("global", dist.Gamma(b, 1.0))
    psi = numpyro.sample("psi", dist.Exponential(0.5).expand((num_features,)).to_event(1))
    total = local.sum()
    numpyro.deterministic("omega", total / glob)
    numpyro.deterministic("r2", total / (total + glob))
    numpyro.deterministic("phi", local / total)
    scale = LOGISTIC_PSEUDO_SIGMA if sigma is None else sigma
    # φ_j ω = g_j / h
    return scale * jnp.sqrt(psi * local / (2.0 * glob))


def _hierarchical_laplace(prior: HierarchicalLaplace, num_features: int, sigma):
    lambda_sq = numpyro.sample("lambda_sq", dist.Gamma(prior.shape, prior.rate))
    psi = numpyro.sample("psi", dist.Exponential(0.5).expand((num_features,)).to_event(1))
    # τ_j² = ψ_j/λ² ~ Exponential(λ²/2), and the weight's sd is στ_j
    return (1.0 if sigma is None else sigma) * jnp.sqrt(psi / lambda_sq)


def _hierarchical_gaussian(prior: HierarchicalGaussian, num_features: int, sigma):
    tau = _half_cauchy("tau", prior.global_scale)
    return jnp.broadcast_to(tau * (1.0 if sigma is None else sigma), (num_features,))


_SAMPLERS = {
    Horseshoe: _horseshoe,
    RegularizedHorseshoe: _regularized_horseshoe,
    R2D2: _r2d2,
    HierarchicalLaplace: _hierarchical_laplace,
    HierarchicalGaussian: _hierarchical_gaussian,
}


def _weight_sd(num_features: int, prior, sigma):
    sampler = _SAMPLERS.get(type(prior))
    if sampler is None:
        raise TypeError(f"not a shrinkage prior: {type(prior).__name__}")
    return sampler(prior, num_features, sigma)


def sample_shrinkage_variance(num_features: int, prior, sigma=None):
    """Sample the scale sites of ``prior`` and return each weight's prior variance, shape ``(p,)``.

    Given the scales, the weights are independent ``N(0, v_j)``: what a sampler that integrates
    the weights out of a Gaussian likelihood needs (`~bayesreg.models.coefficient_posterior` takes
    ``v`` as its ``prior_variance``). The arguments are those of `sample_shrinkage_coef`.

    Returns
    -------
    array, shape (num_features,)

    Examples
    --------
    The regularised horseshoe's variances never exceed the slab's ``c²``:

    >>> import numpy as np
    >>> from numpyro import handlers
    >>> from bayesreg.models.shrinkage import sample_shrinkage_variance
    >>> from bayesreg.shrinkage import RegularizedHorseshoe
    >>> with handlers.trace() as trace, handlers.seed(rng_seed=1):
    ...     variance = sample_shrinkage_variance(5, RegularizedHorseshoe(global_scale=10.0), sigma=1.0)
    >>> variance.shape, bool(np.all(variance < trace["slab"]["value"] ** 2))
    ((5,), True)
    """
    return _weight_sd(num_features, prior, sigma) ** 2


class WeightConditioning(NamedTuple):
    """A Gaussian approximation of the likelihood in each weight, ``log p(y | coef_j) ≈ shift_j ·
    coef_j − information_j · coef_j² / 2`` (+ a constant), by which `sample_shrinkage_coef`
    standardises the weights it samples (the site ``coef_c``): the likelihood's curvature in
    ``coef_j`` and its slope at 0, from the Laplace approximation at a mode
    (`bayesreg.sampling.shrinkage_start`). A pytree of two arrays of shape ``(p,)``.

    Examples
    --------
    >>> from bayesreg.models.shrinkage import WeightConditioning
    >>> WeightConditioning._fields
    ('information', 'shift')
    """

    information: Any
    shift: Any


def sample_shrinkage_coef(
    num_features: int, prior, sigma=None, conditioning: WeightConditioning | None = None
):
    """Sample the scale sites of ``prior`` and return the deterministic site ``coef``, shape ``(p,)``.

    Parameters
    ----------
    num_features : int
        p.
    prior : Horseshoe, RegularizedHorseshoe, R2D2, HierarchicalLaplace or HierarchicalGaussian
        The prior (`bayesreg.shrinkage`, `bayesreg.hierarchical`).
    sigma : float, array or None
        The noise sd the weights' scale is relative to; None for a model without one (logistic).
    conditioning : WeightConditioning, optional
        Sample ``coef_c``, the weights standardised by their conditional posterior given the scales
        under this approximation of the likelihood (``coef_z`` then deterministic); None (default)
        samples ``coef_z ~ N(0, 1)``. The prior of ``coef`` is the same either way.

    Returns
    -------
    array, shape (num_features,)

    Examples
    --------
    The horseshoe's sites, and ``coef = z · λ · τ · σ``:

    >>> import numpy as np
    >>> from numpyro import handlers
    >>> from bayesreg.models.shrinkage import sample_shrinkage_coef
    >>> from bayesreg.shrinkage import Horseshoe
    >>> trace = handlers.trace(handlers.seed(sample_shrinkage_coef, 0)).get_trace(3, Horseshoe(), sigma=2.0)
    >>> {name: site["type"] for name, site in trace.items()}
    {'tau': 'sample', 'lambda': 'sample', 'coef_z': 'sample', 'coef': 'deterministic'}
    >>> v = {name: np.asarray(site["value"]) for name, site in trace.items()}
    >>> bool(np.allclose(v["coef"], v["coef_z"] * v["lambda"] * v["tau"] * 2.0))
    True

    Conditioned on the data's information, ``coef_c`` is sampled, and ``coef = m(s) + coef_c/√(ℓ +
    s⁻²)`` with ``m(s) = b/(ℓ + s⁻²)``:

    >>> from bayesreg.models.shrinkage import WeightConditioning
    >>> conditioning = WeightConditioning(np.array([0.0, 4.0, 100.0]), np.array([0.0, 2.0, 50.0]))
    >>> seeded = handlers.seed(sample_shrinkage_coef, 0)
    >>> trace = handlers.trace(seeded).get_trace(3, Horseshoe(), 2.0, conditioning)
    >>> [name for name, site in trace.items() if site["type"] == "sample"]
    ['tau', 'lambda', 'coef_c']
    >>> v = {name: np.asarray(site["value"]) for name, site in trace.items()}
    >>> s = v["lambda"] * v["tau"] * 2.0
    >>> precision = conditioning.information + s**-2.0
    >>> coef = conditioning.shift / precision + v["coef_c"] / np.sqrt(precision)
    >>> bool(np.allclose(v["coef"], coef) and np.allclose(v["coef_z"], v["coef"] / s))
    True

    With ``ℓ = b = 0`` this is the non-centred form: the same ``coef`` from the same seed.

    >>> zero = WeightConditioning(np.zeros(3), np.zeros(3))
    >>> plain = handlers.seed(sample_shrinkage_coef, 0)(3, Horseshoe(), 2.0)
    >>> bool(np.allclose(handlers.seed(sample_shrinkage_coef, 0)(3, Horseshoe(), 2.0, zero), plain))
    True
    """
    sd = _weight_sd(num_features, prior, sigma)
    if conditioning is None:
        return numpyro.deterministic("coef", _standard_normal(num_features) * sd)
    # with r = √(1 + ℓs²): 1/√(ℓ + s⁻²) = s/r and m(s) = b s²/r², written so that s → 0 stays finite
    ratio = jnp.sqrt(1.0 + conditioning.information * sd**2)
    mean = conditioning.shift * (sd / ratio) ** 2
    coef_c = numpyro.sample("coef_c", dist.Normal(-conditioning.shift * sd / ratio, ratio).to_event(1))
    coef = numpyro.deterministic("coef", mean + coef_c * sd / ratio)
    numpyro.deterministic("coef_z", coef / sd)
    return coef
