"""Penalty strength learned by full Bayes: a hyperprior on the global scale, sampled with the weights.

A fixed α fixes the prior's scale. Here the scale gets a prior of its own and NUTS samples it
together with the weights, so the posterior says which penalty strengths the data support:

- `HierarchicalLaplace`, the Bayesian lasso of Park & Casella (2008) with their Gamma prior on λ²;
- `HierarchicalGaussian`, ridge with a half-Cauchy prior on the weights' common sd (BayesReg's
  ridge, Makalic & Schmidt 2016; Gelman 2006 on half-Cauchy priors for hierarchical scales).

Both are σ-conditional, like scikit-learn's Lasso and Ridge: the prior of a weight scales with the
noise sd σ of the linear model (1 for logistic regression), so a change of the target's units
changes nothing but σ. `alpha_posterior` turns the sampled hyperparameter into draws of α in a
penalty convention of `bayesreg.priors` (with σ's draws where the convention needs them), and
summarises them: "the data support α in [a, b]".

The elastic-net prior has no hierarchical form here: it is no Gaussian scale mixture with a
closed-form mixing law, and its two strengths would need a joint hyperprior with no standard choice.

The objects hold a prior's options; the NumPyro sites that sample it are in
`bayesreg.models.shrinkage` (non-centred), and every model of `bayesreg.models` takes them as
``prior=`` (with the Gaussian likelihood, `~bayesreg.sampling.fit_posterior` integrates the weights
out: `~bayesreg.models.linear_regression_collapsed`). Each is a frozen dataclass registered as a JAX
pytree: compiled programs take new hyperparameter values without recompiling.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import ClassVar, NamedTuple

import jax
import numpy as np

from bayesreg.defaults import (
    ALPHA_INTERVAL,
    HIERARCHICAL_TARGET_ACCEPT,
    LASSO_LAMBDA_SQ_RATE,
    LASSO_LAMBDA_SQ_SHAPE,
    RIDGE_GLOBAL_SCALE,
)
from bayesreg.params import Interval, check_param

__all__ = [
    # the priors
    "HierarchicalGaussian",
    "HierarchicalLaplace",
    "HIERARCHICAL_PRIORS",
    "hierarchical_prior",
    # the posterior of α
    "AlphaPosterior",
    "alpha_posterior",
]

_POSITIVE = Interval(integer=False, low=0.0, high=None)


def _check_positive(name: str, value) -> None:
    """Check a plain number at construction; arrays and tracers (a pytree rebuilt inside a compiled
    program) pass unchecked."""
    if isinstance(value, numbers.Real):
        check_param(name, value, _POSITIVE)


class _Hierarchical:
    """What the hierarchical priors share: their class attributes' meaning, the acceptance target,
    the check of their options (each a positive number) and the one-line description."""

    kind: ClassVar[str]
    penalty_kind: ClassVar[str]
    hyper_site: ClassVar[str]
    target_accept: ClassVar[float] = HIERARCHICAL_TARGET_ACCEPT

    def __post_init__(self):
        for field in dataclasses.fields(self):
            _check_positive(field.name, getattr(self, field.name))

    def _hierarchy(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self, num_features: int | None = None, n_samples: int | None = None) -> str:
        """The hierarchy in one line, with the numbers in force.

        Parameters
        ----------
        num_features, n_samples : int, optional
            Not needed (taken for the signature the sparsity priors share).

        Examples
        --------
        >>> from bayesreg.hierarchical import HierarchicalGaussian, HierarchicalLaplace
        >>> HierarchicalLaplace(2.0, 0.5).describe()
        'hierarchical Laplace, λ² ~ Gamma(2, 0.5), τ_j² ~ Exp(λ²/2), coef_j ~ N(0, σ² τ_j²)'
        >>> HierarchicalGaussian().describe()
        'hierarchical Gaussian, τ ~ C⁺(0, 1), coef_j ~ N(0, τ² σ²)'
        """
        return self._hierarchy()


@dataclasses.dataclass(frozen=True)
class HierarchicalLaplace(_Hierarchical):
    """The Bayesian lasso with a Gamma hyperprior on λ² (Park & Casella 2008, §3.2).

    .. math::

        \\mathrm{coef}_j \\mid τ_j^2, σ^2 \\sim \\mathcal N(0, σ^2 τ_j^2),\\qquad
        τ_j^2 \\mid λ \\sim \\mathrm{Exponential}(λ^2/2),\\qquad
        λ^2 \\sim \\mathrm{Gamma}(r, δ)\\ \\text{(shape r, rate δ)},

    so that, given λ and σ, each weight is Laplace with scale ``b = σ/λ`` (density
    ``λ/(2σ)·exp(−λ|coef_j|/σ)``): the prior is conditional on σ, which keeps the posterior
    unimodal (Park & Casella, §2) and makes λ free of the target's units. σ is the linear model's
    noise sd and 1 for logistic regression.

    In the penalty conventions of `bayesreg.priors` (n rows), one λ (with one σ) is the penalty

    - book, ``NLL + α‖w‖₁``: ``α = λ/σ`` (logistic: ``α = λ``);
    - scikit-learn Lasso, ``(1/2n)‖y − Xw‖² + α‖w‖₁``: ``α = λσ/n``;
    - scikit-learn LogisticRegression (L1): ``C = 1/λ``.

    `alpha_posterior` applies these to the posterior draws.

    Sampled non-centred (`bayesreg.models.shrinkage`): ``λ²`` is the site ``lambda_sq``,
    ``ψ_j ~ Exponential(1/2)`` the site ``psi`` (``τ_j² = ψ_j/λ²``) and ``z_j ~ N(0, 1)`` the site
    ``coef_z``, with ``coef = z · σ · √ψ / λ`` a deterministic site.

    Parameters
    ----------
    shape : float > 0, default `LASSO_LAMBDA_SQ_SHAPE` (1)
        r.
    rate : float > 0, default `LASSO_LAMBDA_SQ_RATE` (1.78)
        δ. Park & Casella's choice for the diabetes data as scikit-learn's ``load_diabetes`` gives
        them (columns centred to unit norm, target unscaled): with r = 1, λ² is exponential with
        mean 1/δ = 0.56, flat enough near the λ the data support there (about 0.24) and
        decaying beyond. λ carries the inverse units of the columns (``coef`` in units of σ
        per unit of x): for columns in other units, give a rate on their scale (the posterior
        λ² is ``Gamma(p + r, Σ τ_j²/2 + δ)`` given the τ's, so with many weights the data
        dominate δ).

    Attributes
    ----------
    kind : str
        ``"hierarchical_laplace"``.
    penalty_kind : str
        ``"laplace"``: the penalty a fixed λ stands for.
    hyper_site : str
        ``"lambda_sq"``: the sampled hyperparameter.
    target_accept : float
        `HIERARCHICAL_TARGET_ACCEPT`.

    Examples
    --------
    >>> from bayesreg.hierarchical import HierarchicalLaplace
    >>> prior = HierarchicalLaplace()
    >>> prior.kind, prior.shape, prior.rate, prior.hyper_site
    ('hierarchical_laplace', 1.0, 1.78, 'lambda_sq')
    >>> prior.describe()
    'hierarchical Laplace, λ² ~ Gamma(1, 1.78), τ_j² ~ Exp(λ²/2), coef_j ~ N(0, σ² τ_j²)'
    >>> HierarchicalLaplace(rate=0.0)
    Traceback (most recent call last):
    ...
    ValueError: rate must be a positive finite number, got 0.0
    """

    shape: float = LASSO_LAMBDA_SQ_SHAPE
    rate: float = LASSO_LAMBDA_SQ_RATE
    kind: ClassVar[str] = "hierarchical_laplace"
    penalty_kind: ClassVar[str] = "laplace"
    hyper_site: ClassVar[str] = "lambda_sq"

    def _hierarchy(self) -> str:
        return (
            f"hierarchical Laplace, λ² ~ Gamma({float(self.shape):g}, {float(self.rate):g}), "
            "τ_j² ~ Exp(λ²/2), coef_j ~ N(0, σ² τ_j²)"
        )

    def laplace_scale(self, hyper, sigma=1.0):
        """The Laplace scale ``b = σ/λ`` of each weight for draws ``hyper`` of λ² (vectorised).

        Examples
        --------
        >>> from bayesreg.hierarchical import HierarchicalLaplace
        >>> float(HierarchicalLaplace().laplace_scale(4.0, sigma=3.0))
        1.5
        """
        return np.asarray(sigma) / np.sqrt(np.asarray(hyper, dtype=float))


@dataclasses.dataclass(frozen=True)
class HierarchicalGaussian(_Hierarchical):
    """Ridge with a half-Cauchy prior on the weights' common sd (BayesReg's ridge).

    .. math::

        \\mathrm{coef}_j \\mid τ, σ \\sim \\mathcal N(0, τ^2 σ^2),\\qquad
        τ \\sim C^+(0, s),

    with ``s = global_scale``; σ is the linear model's noise sd and 1 for logistic regression. A
    half-Cauchy on the sd (Gelman 2006) rather than a Gamma on the precision ``1/τ²``: it is flat
    near τ = 0, so it does not push the weights away from 0 as ``Gamma(ε, ε)`` on the precision
    does where the data support strong shrinkage, and its Cauchy tail lets the data choose a wide
    prior; with s = 1 the prior median of the sd is σ (a weight of one noise sd per unit of x),
    the scale of standardised columns. It is the horseshoe's global scale with every local scale at
    1, as BayesReg (Makalic & Schmidt 2016) writes its ridge.

    In the penalty conventions of `bayesreg.priors`, one τ (with one σ) is the penalty

    - book, ``NLL + (α/2)‖w‖²``: ``α = 1/(τσ)²`` (logistic: ``α = 1/τ²``);
    - scikit-learn Ridge, ``‖y − Xw‖² + α‖w‖²``: ``α = 1/τ²``;
    - scikit-learn LogisticRegression (L2): ``C = τ²``.

    Sampled non-centred (`bayesreg.models.shrinkage`): ``τ`` is the site ``tau`` and
    ``z_j ~ N(0, 1)`` the site ``coef_z``, with ``coef = z · τ · σ`` a deterministic site.

    Parameters
    ----------
    global_scale : float > 0, default `RIDGE_GLOBAL_SCALE` (1)
        s, the scale of τ's half-Cauchy prior.

    Attributes
    ----------
    kind : str
        ``"hierarchical_gaussian"``.
    penalty_kind : str
        ``"gaussian"``.
    hyper_site : str
        ``"tau"``.
    target_accept : float
        `HIERARCHICAL_TARGET_ACCEPT`.

    Examples
    --------
    >>> from bayesreg.hierarchical import HierarchicalGaussian
    >>> prior = HierarchicalGaussian()
    >>> prior.kind, prior.global_scale, prior.hyper_site
    ('hierarchical_gaussian', 1.0, 'tau')
    >>> HierarchicalGaussian(0.5).describe()
    'hierarchical Gaussian, τ ~ C⁺(0, 0.5), coef_j ~ N(0, τ² σ²)'
    """

    global_scale: float = RIDGE_GLOBAL_SCALE
    kind: ClassVar[str] = "hierarchical_gaussian"
    penalty_kind: ClassVar[str] = "gaussian"
    hyper_site: ClassVar[str] = "tau"

    def _hierarchy(self) -> str:
        return f"hierarchical Gaussian, τ ~ C⁺(0, {float(self.global_scale):g}), coef_j ~ N(0, τ² σ²)"

    def gaussian_sd(self, hyper, sigma=1.0):
        """The prior sd ``τσ`` of each weight for draws ``hyper`` of τ (vectorised).

        Examples
        --------
        >>> from bayesreg.hierarchical import HierarchicalGaussian
        >>> float(HierarchicalGaussian().gaussian_sd(0.5, sigma=3.0))
        1.5
        """
        return np.asarray(hyper, dtype=float) * np.asarray(sigma)


HIERARCHICAL_PRIORS = {"laplace": HierarchicalLaplace, "gaussian": HierarchicalGaussian}
"""The hierarchical prior of each penalty kind that has one (``alpha="hierarchical"``)."""


def hierarchical_prior(kind: str, **options):
    """The hierarchical prior of penalty ``kind``, with ``options``.

    Parameters
    ----------
    kind : {"laplace", "gaussian"}
        The penalty whose strength is to be learned.
    **options
        The prior's parameters (``shape``, ``rate``; ``global_scale``).

    Returns
    -------
    HierarchicalLaplace or HierarchicalGaussian

    Raises
    ------
    ValueError
        For a kind without a hierarchical prior (the elastic net) or an unknown option.

    Examples
    --------
    >>> from bayesreg.hierarchical import hierarchical_prior
    >>> hierarchical_prior("laplace", rate=1.0)
    HierarchicalLaplace(shape=1.0, rate=1.0)
    >>> hierarchical_prior("elasticnet")
    Traceback (most recent call last):
    ...
    ValueError: no hierarchical prior for the elasticnet penalty; expected one of laplace, gaussian
    """
    if kind not in HIERARCHICAL_PRIORS:
        raise ValueError(
            f"no hierarchical prior for the {kind} penalty; expected one of {', '.join(HIERARCHICAL_PRIORS)}"
        )
    cls = HIERARCHICAL_PRIORS[kind]
    fields = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise ValueError(f"the hierarchical {kind} prior takes {', '.join(fields)}, not {', '.join(unknown)}")
    return cls(**options)


class AlphaPosterior(NamedTuple):
    """The posterior of the penalty strength α in one convention, and its summary.

    Attributes
    ----------
    draws : numpy.ndarray, shape (chain, draw)
        α at each posterior draw.
    mean, median : float
        Of the draws.
    interval : tuple of float
        The central interval of probability ``prob`` (its quantiles ``(1 − prob)/2`` and
        ``(1 + prob)/2``).
    prob : float
        The interval's probability.
    penalty_kind : str
        ``"laplace"`` or ``"gaussian"``.
    convention : str
        ``"sklearn"`` or ``"book"``.
    family : str
        ``"gaussian"`` (linear), ``"bernoulli"`` (logistic; there ``α = 1/C``), ``"poisson"`` or
        ``"negative_binomial"``.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.hierarchical import AlphaPosterior
    >>> post = AlphaPosterior(np.ones((1, 3)), 1.0, 1.0, (0.5, 2.0), 0.9, "laplace", "sklearn", "gaussian")
    >>> post.describe()
    'the data support α in [0.5, 2] (90% interval; posterior median 1)'
    """

    draws: np.ndarray
    mean: float
    median: float
    interval: tuple
    prob: float
    penalty_kind: str
    convention: str
    family: str

    def describe(self) -> str:
        """One sentence: the interval and the median, to 4 significant digits."""
        low, high = self.interval
        return (
            f"the data support α in [{low:.4g}, {high:.4g}] ({self.prob:.0%} interval; "
            f"posterior median {self.median:.4g})"
        )


def alpha_posterior(
    idata,
    prior: HierarchicalLaplace | HierarchicalGaussian,
    *,
    convention: str = "sklearn",
    n_samples: int | None = None,
    prob: float = ALPHA_INTERVAL,
) -> AlphaPosterior:
    """Draws of the penalty strength α implied by a hierarchical prior's posterior, in a convention.

    Each posterior draw of the hyperparameter (λ² or τ), with the draw of σ where the linear model
    samples it (or its fixed value), is one prior of `bayesreg.priors`: the MAP under it is the
    penalised estimate with one α. The formulas are in `HierarchicalLaplace` and
    `HierarchicalGaussian`; they are those of `~bayesreg.priors.penalty_from_prior`, applied to every
    draw at once.

    Parameters
    ----------
    idata : arviz.InferenceData
        A posterior fitted under ``prior`` (`~bayesreg.sampling.fit_posterior` or
        `~bayesreg.sampling.sample_posterior`). A linear model's posterior has a ``sigma`` variable,
        or a fixed σ in ``posterior.attrs["sigma"]``; without either the model is taken to be
        logistic regression (σ = 1, ``α = 1/C``).
    prior : HierarchicalLaplace or HierarchicalGaussian
        The prior it was fitted under.
    convention : {"sklearn", "book", "glum", "statsmodels"}
        The penalty convention of `~bayesreg.priors.prior_from_penalty` (glum's and statsmodels' for
        a Poisson or negative binomial posterior, whose ``posterior.attrs["family"]`` says so).
    n_samples : int, optional
        Rows n, for scikit-learn's Lasso convention and the count families' per-row objectives;
        default: the size of ``observed_data["y"]``.
    prob : float in (0, 1), default `ALPHA_INTERVAL` (0.9)
        Probability of the central interval.

    Returns
    -------
    AlphaPosterior

    Raises
    ------
    ValueError
        If the posterior lacks the prior's hyperparameter, is recorded as another family (the
        Student-t's), or for a bad convention or ``prob``.

    Examples
    --------
    Made-up draws of λ² and σ: scikit-learn's Lasso α is ``λσ/n``:

    >>> import arviz as az, numpy as np
    >>> from bayesreg.hierarchical import HierarchicalLaplace, alpha_posterior
    >>> rng = np.random.default_rng(0)
    >>> lam_sq, sigma = rng.gamma(5.0, 1.0, (2, 100)), rng.gamma(50.0, 0.02, (2, 100))
    >>> idata = az.from_dict(posterior={"lambda_sq": lam_sq, "sigma": sigma})
    >>> post = alpha_posterior(idata, HierarchicalLaplace(), n_samples=40)
    >>> bool(np.allclose(post.draws, np.sqrt(lam_sq) * sigma / 40))
    True
    >>> post.interval[0] < post.median < post.interval[1], post.penalty_kind, post.family
    (True, 'laplace', 'gaussian')
    """
    from bayesreg.data import COUNT_FAMILIES  # pandas: not loaded with the priors

    convention = check_param("convention", convention)
    prob = check_param("prob", prob, Interval(integer=False, low=0.0, high=1.0))
    if not isinstance(prior, tuple(HIERARCHICAL_PRIORS.values())):
        raise ValueError(f"not a hierarchical prior: {type(prior).__name__}")
    posterior = idata.posterior
    if prior.hyper_site not in posterior:
        raise ValueError(
            f"the posterior has no {prior.hyper_site!r} variable: it was not fitted under {prior.describe()}"
        )
    hyper = np.asarray(posterior[prior.hyper_site].values, dtype=float)
    recorded = posterior.attrs.get("family")
    if recorded in COUNT_FAMILIES:
        return _count_alpha_posterior(idata, prior, hyper, recorded, convention, n_samples, prob)
    if recorded not in (None, "gaussian", "bernoulli"):
        raise ValueError(
            "α in a penalty convention is read from Poisson, negative binomial, linear and logistic "
            f"posteriors; this one is {recorded!r}"
        )
    if "sigma" in posterior:
        family, sigma = "gaussian", np.asarray(posterior["sigma"].values, dtype=float)
    elif "sigma" in posterior.attrs:
        family, sigma = "gaussian", float(posterior.attrs["sigma"])
    else:
        family, sigma = "bernoulli", 1.0
    if prior.penalty_kind == "laplace":
        rate = 1.0 / prior.laplace_scale(hyper, sigma)  # λ₁ of bayesreg.priors, at this σ
        if convention == "sklearn" and family == "gaussian":
            if n_samples is None:
                n_samples = int(np.asarray(idata.observed_data["y"]).size)
            draws = rate * sigma**2 / n_samples  # Lasso: λ₁ = nα/σ²
        else:
            draws = rate  # book: λ₁ = α; LogisticRegression: λ₁ = 1/C
    else:
        precision = 1.0 / prior.gaussian_sd(hyper, sigma) ** 2  # λ₂ at this σ
        if convention == "sklearn" and family == "gaussian":
            draws = precision * sigma**2  # Ridge: λ₂ = α/σ²
        else:
            draws = precision  # book: λ₂ = α; LogisticRegression: λ₂ = 1/C
    return _summary(np.broadcast_to(draws, hyper.shape).astype(float), prior, convention, family, prob)


def _count_alpha_posterior(idata, prior, hyper, family, convention, n_samples, prob) -> AlphaPosterior:
    """`alpha_posterior` of a Poisson or negative binomial posterior: its prior's rate (Laplace) or
    precision (Gaussian) at each draw of the hyperparameter (σ = 1, as these models read a prior),
    times the α of a unit rate in ``convention`` (`~bayesreg.priors.penalty_from_prior`: α is linear
    in the rate, divided by n in glum's and statsmodels' per-row objectives)."""
    from bayesreg.priors import Prior, penalty_from_prior

    if n_samples is None and "observed_data" in idata.groups():
        n_samples = int(np.asarray(idata.observed_data["y"]).size)
    if prior.penalty_kind == "laplace":
        unit, rate = Prior("laplace", 1.0), 1.0 / prior.laplace_scale(hyper, 1.0)
    else:
        unit, rate = Prior("gaussian", 0.0, 1.0), 1.0 / prior.gaussian_sd(hyper, 1.0) ** 2
    per_unit = penalty_from_prior(unit, convention=convention, family=family, n_samples=n_samples)["alpha"]
    return _summary(np.asarray(rate * per_unit, dtype=float), prior, convention, family, prob)


def _summary(draws, prior, convention: str, family: str, prob: float) -> AlphaPosterior:
    low, median, high = np.quantile(draws, [(1.0 - prob) / 2, 0.5, (1.0 + prob) / 2])
    return AlphaPosterior(
        draws=draws,
        mean=float(draws.mean()),
        median=float(median),
        interval=(float(low), float(high)),
        prob=float(prob),
        penalty_kind=prior.penalty_kind,
        convention=convention,
        family=family,
    )


jax.tree_util.register_dataclass(HierarchicalLaplace, data_fields=["shape", "rate"], meta_fields=[])
jax.tree_util.register_dataclass(HierarchicalGaussian, data_fields=["global_scale"], meta_fields=[])
