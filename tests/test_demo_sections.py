"""The demo report's sections on learned shrinkage, against computations written here.

* "α learned from the data", full Bayes: the hierarchical Laplace and Gaussian fits' α interval and
  median equal quantiles of α computed here from the raw posterior draws of λ² (τ) and σ with the
  conventions' formulas (scikit-learn's Lasso ``α = λσ/n``, Ridge ``α = 1/τ²``), and
  `alpha_posterior` of the same fit; LassoCV's α in the sentence is scikit-learn's, fitted here; the
  Monte Carlo s.e. is ArviZ's of the median; the non-zero count is scikit-learn's Lasso at the
  median; the fits were made under the hierarchical priors with the estimators' σ prior.
* "A sparse answer from the posterior": the table equals `selection_table` and the projection
  `projection_selection`, both called here on the demo's posterior (real data: scikit-learn's
  diabetes as loaded); the section shows each feature's answers, the suggested size and the plot.
* "Which prior predicts best": the penalty figure is `plot_prior_penalties` of the demo's sparsity
  priors (each equal to `shrinkage_prior` with its defaults), drawn here, byte for byte.
* The hierarchical fits' diagnostics reach the gate banner; selection without a posterior is a
  clear error.
"""

import html
import re
import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso, LassoCV

from bayesreg.defaults import NUTSSettings

NUTS = NUTSSettings(num_warmup=100, num_samples=100, num_chains=2)


@pytest.fixture(scope="module")
def demo():
    """The demo without its path and its comparison, with short chains (they fail the gate)."""
    from bayesreg.demo import run_demo

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_demo(path=False, comparison=False, nuts=NUTS)


@pytest.fixture(scope="module")
def sections(demo):
    from bayesreg.report import demo_sections

    return {section.title: section.html for section in demo_sections(demo)}


def _text(fragment: str) -> str:
    """The text of an HTML fragment: tags as spaces, entities unescaped, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


# --- α learned: full Bayes ----------------------------------------------------------------------


def test_full_bayes_alpha_from_the_raw_draws(demo):
    """α of each draw from λ² (τ) and σ by the conventions' formulas, its quantiles and median."""
    from bayesreg.hierarchical import ALPHA_INTERVAL

    learned = demo.learned
    table = learned.table
    n = demo.n_samples
    posterior = learned.fits["laplace"].idata.posterior
    lasso_alpha = np.sqrt(posterior["lambda_sq"].to_numpy()) * posterior["sigma"].to_numpy() / n
    ridge_alpha = 1.0 / learned.fits["gaussian"].idata.posterior["tau"].to_numpy() ** 2
    tails = [(1 - ALPHA_INTERVAL) / 2, 0.5, (1 + ALPHA_INTERVAL) / 2]
    for kind, draws in (("laplace", lasso_alpha), ("gaussian", ridge_alpha)):
        low, median, high = np.quantile(draws, tails)
        row = table.loc["hierarchical"]
        np.testing.assert_allclose(
            [row[f"{kind}_low"], row[kind], row[f"{kind}_high"]], [low, median, high], rtol=1e-12
        )
        np.testing.assert_allclose(learned.posteriors[kind].draws, draws, rtol=1e-12)
    assert table.loc["hierarchical", "laplace_mcse"] == pytest.approx(
        float(az.mcse(lasso_alpha, method="median")), rel=1e-12
    )
    # the point rows have no interval, and scikit-learn has no full-Bayes α
    assert table.loc[["fixed", "cv", "eb"], ["laplace_low", "gaussian_high"]].isna().all().all()
    assert np.isnan(
        table.loc["hierarchical", ["laplace_reference", "gaussian_reference"]].astype(float)
    ).all()


def test_full_bayes_alpha_is_alpha_posterior_of_the_same_fits(demo):
    """`alpha_posterior` of the stored fits, and the fits made under the hierarchical priors with
    the estimators' σ prior (an Exponential of mean std(y)) and an intercept."""
    from bayesreg.hierarchical import HierarchicalGaussian, HierarchicalLaplace, alpha_posterior

    learned = demo.learned
    assert learned.priors == {"laplace": HierarchicalLaplace(), "gaussian": HierarchicalGaussian()}
    for kind, prior in learned.priors.items():
        direct = alpha_posterior(
            learned.fits[kind].idata, prior, convention="sklearn", n_samples=demo.n_samples
        )
        assert learned.posteriors[kind].interval == direct.interval
        assert learned.posteriors[kind].median == direct.median
        posterior = learned.fits[kind].idata.posterior
        assert {prior.hyper_site, "sigma", "intercept", "coef"} <= set(posterior.data_vars)
        assert posterior.sizes == {"chain": NUTS.num_chains, "draw": NUTS.num_samples, "feature": 10}
    assert learned.settings == {**NUTS._asdict(), "seed": demo.posterior.settings["seed"]}


def test_full_bayes_sentence_names_lassocv_and_the_interval(demo, sections):
    """The issue's sentence, "the data support α in [a, b]; LassoCV picked c", with c from
    scikit-learn here, and the table row with the interval and the Lasso's support at the median."""
    X, y = load_diabetes(return_X_y=True)
    learned = demo.learned
    lasso_cv = LassoCV().fit(X, y).alpha_
    text = _text(sections["α learned from the data"])
    laplace = learned.posteriors["laplace"]
    assert f"{laplace.describe()}; LassoCV picked {lasso_cv:.4g}" in text
    assert f"{learned.posteriors['gaussian'].describe()}; RidgeCV picked" in text
    low, high = laplace.interval
    assert (
        f"full Bayes (posterior median [90% interval]) {laplace.median:.4g} [{low:.4g}, {high:.4g}]" in text
    )
    support = Lasso(alpha=laplace.median, tol=1e-12, max_iter=100_000).fit(X, y).coef_
    assert learned.table.loc["hierarchical", "laplace_nonzero"] == np.count_nonzero(support)
    failed = [kind for kind, fit in learned.fits.items() if not fit.diagnostics.ok]
    assert failed, "the short chains fail the gate"
    assert "failed the diagnostics gate" in text


def test_hierarchical_fits_reach_the_gate_banner(demo):
    from bayesreg.report import demo_report

    page = demo_report(demo)
    banner = page[page.index('<div class="gate"') : page.index("</div>")]
    for fit in demo.learned.fits.values():
        for problem in fit.diagnostics.problems:
            assert html.escape(str(problem)) in banner


# --- a sparse answer -----------------------------------------------------------------------------


def test_selection_equals_the_library_called_here(demo):
    from bayesreg.selection import projection_selection, selection_table

    p = demo.posterior
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        projection = projection_selection(p.idata, p.X, p.y)
        table = selection_table(p.idata, p.X, p.y)  # its own projection, and the default HDI level
    pd.testing.assert_frame_equal(demo.selection.projection.table, projection.table)
    assert demo.selection.projection.suggested_size == projection.suggested_size
    assert demo.selection.projection.order == projection.order
    pd.testing.assert_frame_equal(demo.selection.table, table)


def test_selection_section_shows_every_answer_and_the_curve(demo, sections):
    sel = demo.selection
    body = sections["A sparse answer from the posterior"]
    text = _text(body)
    if sel.projection.suggested_size is not None:
        assert f"suggests size {sel.projection.suggested_size} ({', '.join(sel.projection.selected)})" in text
    for feature, row in sel.table.iterrows():
        flags = " ".join("yes" if row[c] else "no" for c in ("projection", "interval", "dss", "lasso_cv"))
        assert f"{feature} {row['posterior_mean']:.2f} {row['search_rank']} {flags}" in text, feature
    assert f"{sel.hdi_prob:.0%} HDI excludes 0" in text
    assert body.count("data:image/png;base64,") == 1
    titles = list(sections)
    assert titles.index("α learned from the data") < titles.index("A sparse answer from the posterior")
    assert titles[-1] == "How this report was made"


def test_selection_needs_the_posterior():
    from bayesreg.demo import run_demo

    with pytest.raises(ValueError, match="selection=True needs posterior=True"):
        run_demo(posterior=False, path=False, selection=True)


# --- the sparsity priors' penalties --------------------------------------------------------------


def test_comparison_section_draws_the_sparsity_priors_penalties(demo):
    """The section's second figure is `plot_prior_penalties` of the demo's sparsity priors, drawn
    here on the same figure size; the priors are `shrinkage_prior`'s defaults."""
    from matplotlib.figure import Figure

    from bayesreg.demo import ComparisonDemo, sparsity_priors
    from bayesreg.plots import plot_prior_penalties
    from bayesreg.prior_comparison import compare_priors
    from bayesreg.report import demo_sections, figure_html
    from bayesreg.shrinkage import R2D2, Horseshoe, RegularizedHorseshoe

    priors = sparsity_priors(demo.n_samples)
    assert priors == {
        "horseshoe": Horseshoe(),
        "regularized_horseshoe": RegularizedHorseshoe(n_samples=442),
        "r2d2": R2D2(),
    }
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        comparison = compare_priors(
            X,
            y,
            {"horseshoe": "horseshoe", "gaussian": "gaussian"},
            standardize=True,
            kfold="none",
            **NUTS._asdict(),
        )
    settings = {**NUTS._asdict(), "seed": 0}
    result = demo._replace(comparison=ComparisonDemo(comparison, settings, priors, 10))
    body = {s.title: s.html for s in demo_sections(result)}["Which prior predicts best"]
    fig = Figure(figsize=(7.5, 4.6), layout="constrained")
    plot_prior_penalties(priors, num_features=10, ax=fig.subplots())
    expected = figure_html(fig, "the penalty of each sparsity prior beside the L1 and L2 penalties")
    assert expected in body
    text = _text(body)
    assert "of horseshoe, regularized_horseshoe, r2d2, beside the L1 and L2 penalties" in text
    assert "the densities are unbounded there, so these priors have no MAP" in text
    # without the priors (an older ComparisonDemo) the section has its table and plot only
    plain = {
        s.title: s.html for s in demo_sections(demo._replace(comparison=ComparisonDemo(comparison, settings)))
    }
    assert plain["Which prior predicts best"].count("data:image/png;base64,") == 1
