"""bayesreg.plots: every plot returns its Axes and draws the numbers it claims.

The geometry plot's w̃ is the seeds' closed form; the posterior plots are checked against a synthetic
posterior with known draws, so they need no sampler.
"""

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from references import assert_map_equal, sklearn_linear
from sklearn.linear_model import Lasso

from bayesreg.compare import compare_map_posterior, predictive_coverage
from bayesreg.demo import geometry_example
from bayesreg.path import MAPPath, PosteriorPath
from bayesreg.plots import (
    plot_coefficients,
    plot_forest_map,
    plot_path,
    plot_penalty_geometry,
    plot_posterior_vs_map,
    plot_ppc,
    plot_prior_penalties,
    plot_prior_vs_posterior,
    plot_sparsity,
)
from bayesreg.priors import prior_from_penalty
from bayesreg.shrinkage import R2D2, Horseshoe, RegularizedHorseshoe

COEF = np.array([0.0, -1.5, 2.0, 0.0, 0.3])
REF = np.array([0.0, -1.5, 2.0, 0.0, 0.3000001])


def _axes():
    return Figure().subplots()


def _point(ax, gid):
    line = next(line for line in ax.lines if line.get_gid() == gid)
    return np.array([line.get_xdata()[0], line.get_ydata()[0]], dtype=float)


def test_plot_coefficients_uses_given_axes():
    ax = _axes()
    assert plot_coefficients(COEF, REF, names=list("abcde"), ax=ax) is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == list("abcde")
    assert sum(text.get_text() == "exactly 0" for text in ax.texts) == 2  # the exact zeros are marked
    with pytest.raises(ValueError, match="shape"):
        plot_coefficients(COEF, REF[:3], ax=_axes())


def test_plot_sparsity_marks_exact_zeros():
    ax = _axes()
    result = plot_sparsity({"L1": COEF, "L2": REF + 0.1}, ax=ax)
    assert result is ax
    assert sum(text.get_text() == "0" for text in ax.texts) == 2
    assert "2 of 5 exactly 0" in ax.get_yticklabels()[0].get_text()
    assert "0 of 5 exactly 0" in ax.get_yticklabels()[1].get_text()


def test_plots_default_to_current_axes():
    plt = pytest.importorskip("matplotlib.pyplot")
    try:
        ax = plot_coefficients(COEF, REF)
        assert isinstance(ax, Axes) and ax is plt.gca()
        assert isinstance(plot_sparsity({"L1": COEF}), Axes)
    finally:
        plt.close("all")


@pytest.fixture(scope="module")
def problem():
    """The report's 2-feature problem, centred: X (40, 2), y (40,), alpha."""
    X, y, alpha = geometry_example()
    return X - X.mean(axis=0), y - y.mean(), alpha


@pytest.mark.parametrize("sigma", [1.0, 0.7])
def test_geometry_l2_is_the_closed_form(problem, sigma):
    X, y, alpha = problem
    ax = _axes()
    assert plot_penalty_geometry(X, y, alpha, kind="gaussian", sigma=sigma, ax=ax) is ax
    H = X.T @ X / sigma**2
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(_point(ax, "w_star"), w_star, rtol=1e-12)
    closed = np.linalg.solve(H + alpha * np.eye(2), H @ w_star)
    np.testing.assert_allclose(_point(ax, "w_tilde"), closed, rtol=0, atol=1e-10)
    # each weight of the plotted MAP to 1e-9 of its own size
    assert_map_equal(_point(ax, "w_tilde"), 0.0, closed, 0.0, rtol=1e-9, atol=0.0, label=f"L2 sigma={sigma}")


def test_geometry_l1_lands_on_an_axis(problem):
    X, y, alpha = problem
    ax = plot_penalty_geometry(X, y, alpha, kind="laplace", ax=_axes())
    w = _point(ax, "w_tilde")
    assert w[1] == 0.0 and w[0] != 0.0  # the diamond's corner: an exact zero
    # J(w) + α‖w‖₁ with J = ‖y − Xw‖²/2 is n times scikit-learn's Lasso objective at alpha/n
    ref = Lasso(alpha=alpha / len(y), fit_intercept=False, tol=1e-14, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(w, ref.coef_, rtol=0, atol=1e-8)
    # and against that Lasso polished on its support and certified: each weight to 1e-6 of its size
    certified = sklearn_linear("laplace", X, y, alpha / len(y), fit_intercept=False)
    assert_map_equal(w, 0.0, certified.coef, 0.0, label="L1 geometry")
    assert np.linalg.norm(np.linalg.lstsq(X, y, rcond=None)[0][1]) > 0.3  # not zero without the prior


def test_geometry_refuses_bad_input(problem):
    X, y, alpha = problem
    with pytest.raises(ValueError, match="shape"):
        plot_penalty_geometry(np.c_[X, X], y, alpha, ax=_axes())
    with pytest.raises(ValueError, match="unknown kind"):
        plot_penalty_geometry(X, y, alpha, kind="horseshoe", ax=_axes())


# ---------------------------------------------------------------------------------------------------
# the regularisation path: a synthetic path with known numbers (no solver, no sampler)

PATH_ALPHAS = np.array([1.0, 0.3, 0.1, 0.03])  # decreasing, as alpha_grid gives it
PATH_MAP = np.array([[0.0, 0.0], [0.0, 0.4], [0.2, 0.9], [0.5, 1.1]])


def _synthetic_path() -> PosteriorPath:
    rng = np.random.default_rng(5)
    median = np.array([[0.05, 0.1], [0.08, 0.42], [0.21, 0.88], [0.49, 1.1]])
    half = np.array([0.1, 0.2, 0.4, 0.8])[:, None] * np.ones(2)
    n = len(PATH_ALPHAS)
    penalised = MAPPath(PATH_ALPHAS, PATH_MAP, np.zeros(n), np.ones(n, int), np.ones(n, bool))
    return PosteriorPath(
        alphas=PATH_ALPHAS,
        map=penalised,
        median=median,
        hdi_low=median - half,
        hdi_high=median + half,
        r_hat=np.ones((n, 2)),
        ess_bulk=np.full((n, 2), 400.0),
        max_r_hat=np.ones(n),
        min_ess_bulk=np.full(n, 400.0),
        divergences=np.zeros(n, int),
        mixture=np.zeros(n, bool),
        coef_draws=rng.standard_normal((n, 2, 10, 2)),
        hdi_prob=0.9,
    )


def test_plot_path_draws_map_median_and_hdi_bands():
    path = _synthetic_path()
    ax = _axes()
    assert plot_path(path, names=["u", "v"], ax=ax) is ax
    assert ax.get_xscale() == "log"
    order = np.argsort(PATH_ALPHAS)  # drawn along increasing α
    maps = [line for line in ax.lines if line.get_gid() == "map"]
    medians = [line for line in ax.lines if line.get_gid() == "median"]
    bands = [c for c in ax.collections if c.get_gid() == "hdi"]
    assert len(maps) == len(medians) == len(bands) == 2
    for j in range(2):
        np.testing.assert_array_equal(maps[j].get_xdata(), PATH_ALPHAS[order])
        np.testing.assert_array_equal(maps[j].get_ydata(), PATH_MAP[order, j])  # exact zeros stay 0
        np.testing.assert_array_equal(medians[j].get_ydata(), path.median[order, j])
        assert maps[j].get_color() == medians[j].get_color()
        # the band's outline runs along hdi_low and back along hdi_high
        vertices = bands[j].get_paths()[0].vertices
        for alpha, low, high in zip(PATH_ALPHAS, path.hdi_low[:, j], path.hdi_high[:, j], strict=True):
            at = vertices[np.isclose(vertices[:, 0], alpha), 1]
            assert np.isclose(at.min(), low) and np.isclose(at.max(), high)
    assert [line.get_ydata()[-1] for line in maps] == [0.0, 0.0]  # at the largest α both MAPs are 0
    assert maps[0].get_ydata()[-2] == 0.0 and maps[1].get_ydata()[-2] == 0.4
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["u", "v", "MAP (penalised)", "posterior median", "90% HDI"]
    assert ax.get_xlim() == (PATH_ALPHAS.min(), PATH_ALPHAS.max())[::-1]  # strongest penalty left


def test_plot_path_hatches_the_alphas_that_failed_the_gate():
    """An α whose posterior failed `check_path_diagnostics` (here R-hat 1.2 at one α, 3 divergences at
    another) is covered by a hatched grey span from half-way to its neighbours on the log axis, with a
    legend entry and a title line; a passing path has none (previous test)."""
    path = _synthetic_path()
    failed = [1, 3]  # positions in PATH_ALPHAS
    path = path._replace(max_r_hat=np.where(np.arange(4) == 1, 1.2, 1.0), divergences=np.array([0, 0, 0, 3]))
    ax = plot_path(path, names=["u", "v"], ax=_axes())
    spans = [patch for patch in ax.patches if patch.get_gid() == "failed"]
    assert len(spans) == 2 and all(span.get_hatch() == "///" for span in spans)
    covered = sorted((span.get_x(), span.get_x() + span.get_width()) for span in spans)
    for (low, high), alpha in zip(covered, np.sort(PATH_ALPHAS[failed]), strict=True):
        assert low < alpha < high or np.isclose(low, alpha) or np.isclose(high, alpha)
        others = np.setdiff1d(PATH_ALPHAS, PATH_ALPHAS[failed])
        assert not ((others > low * (1 + 1e-9)) & (others < high * (1 - 1e-9))).any()  # only that α
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[-1] == "diagnostics failed"
    assert "diagnostics failed at 2 of 4 α (hatched)" in ax.get_title()
    clean = plot_path(_synthetic_path(), ax=_axes())
    assert not [patch for patch in clean.patches if patch.get_gid() == "failed"]


def test_plot_path_of_a_map_path_and_errors():
    path = _synthetic_path().map
    ax = plot_path(path, ax=_axes())
    assert not [line for line in ax.lines if line.get_gid() == "median"] and not ax.collections
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["x0", "x1"]
    assert "3 of 8" in ax.get_title()  # the exact zeros of the MAP, counted
    with pytest.raises(ValueError, match="names has 3 entries"):
        plot_path(path, names=list("abc"), ax=_axes())
    with pytest.raises(ValueError, match="MAPPath or PosteriorPath"):
        plot_path(PATH_MAP, ax=_axes())


# ---------------------------------------------------------------------------------------------------
# the posterior against the MAP: a synthetic posterior with known draws (no sampler needed)

FEATURES = ["a", "b", "c"]
MAP = np.array([0.0, -1.2, 2.5])


@pytest.fixture(scope="module")
def posterior():
    """InferenceData of a 3-feature linear model: 2 chains x 300 draws, 40 observations.

    ``coef`` ~ N((0.1, -1.0, 2.4), 0.3²), ``intercept`` ~ N(1, 0.1²), ``sigma`` ~ 0.5 + |N(0, 0.05²)|;
    ``X`` (40, 3) and ``y`` (40,) come with it, and a posterior predictive group drawn from the model.
    """
    az = pytest.importorskip("arviz")
    rng = np.random.default_rng(1)
    chains, draws, n = 2, 300, 40
    coef = np.array([0.1, -1.0, 2.4]) + 0.3 * rng.standard_normal((chains, draws, 3))
    intercept = 1.0 + 0.1 * rng.standard_normal((chains, draws))
    sigma = 0.5 + np.abs(0.05 * rng.standard_normal((chains, draws)))
    X = rng.standard_normal((n, 3))
    y = 1.0 + X @ np.array([0.1, -1.0, 2.4]) + 0.5 * rng.standard_normal(n)
    mean = np.einsum("cdp,np->cdn", coef, X) + intercept[..., None]
    replicated = mean + sigma[..., None] * rng.standard_normal(mean.shape)
    idata = az.from_dict(
        posterior={"coef": coef, "intercept": intercept, "sigma": sigma},
        posterior_predictive={"y": replicated},
        observed_data={"y": y},
        coords={"feature": FEATURES, "obs": np.arange(n)},
        dims={"coef": ["feature"], "y": ["obs"]},
    )
    return idata, X, y


def _gid(ax, gid):
    return [a for a in [*ax.lines, *ax.collections] if a.get_gid() == gid]


def _draws(idata, name="coef"):
    values = idata.posterior[name].to_numpy()
    return values.reshape((-1, *values.shape[2:]))


def test_posterior_vs_map_marks_the_map(posterior):
    idata, _, _ = posterior
    axes = Figure().subplots(1, 3)
    result = plot_posterior_vs_map(idata, MAP, axes=axes)
    assert len(result) == 3 and all(r is a for r, a in zip(result, axes, strict=True))
    means = _draws(idata).mean(axis=0)
    for j, ax in enumerate(result):
        (line,) = _gid(ax, "map")
        np.testing.assert_array_equal(line.get_xdata(), [MAP[j], MAP[j]])
        (mean,) = _gid(ax, "mean")
        np.testing.assert_allclose(mean.get_xdata(), [means[j], means[j]], rtol=1e-12)
        (density,) = _gid(ax, "posterior")
        x, d = density.get_xdata(), density.get_ydata()
        assert np.all(d >= 0) and 0.9 < np.sum(d) * (x[1] - x[0]) <= 1.0001  # a density
    assert [ax.get_title() for ax in result] == ["a: MAP exactly 0", "b", "c"]


def test_posterior_vs_map_subset_and_errors(posterior):
    idata, _, _ = posterior
    (ax,) = plot_posterior_vs_map(idata, MAP, features=["c"], axes=[_axes()])
    assert _gid(ax, "map")[0].get_xdata()[0] == MAP[2] and ax.get_title() == "c"
    with pytest.raises(ValueError, match="2 Axes for 3"):
        plot_posterior_vs_map(idata, MAP, axes=Figure().subplots(1, 2))
    with pytest.raises(ValueError, match="unknown feature 'z'"):
        plot_posterior_vs_map(idata, MAP, features=["z"], axes=[_axes()])
    with pytest.raises(ValueError, match="2 entries"):
        plot_posterior_vs_map(idata, MAP[:2], axes=Figure().subplots(1, 3))


def test_multi_panel_plots_make_a_figure(posterior):
    plt = pytest.importorskip("matplotlib.pyplot")
    idata, _, _ = posterior
    try:
        panels = plot_posterior_vs_map(idata, MAP, ncols=2)
        assert len(panels) == 3 and all(isinstance(a, Axes) for a in panels)
        figure = panels[0].figure
        assert len([a for a in figure.axes if a.get_visible()]) == 3  # the 4th cell is hidden
    finally:
        plt.close("all")


def test_prior_vs_posterior_draws_the_prior_at_the_posterior_median_sigma(posterior):
    from scipy.stats import laplace

    idata, _, _ = posterior
    prior = prior_from_penalty("laplace", 0.05, n_samples=40)  # noise-scaled: b = σ²/(nα)
    result = plot_prior_vs_posterior(idata, prior, axes=Figure().subplots(1, 3))
    sigma = float(np.median(_draws(idata, "sigma")))
    for ax in result:
        (line,) = _gid(ax, "prior")
        x = line.get_xdata()
        np.testing.assert_allclose(line.get_ydata(), laplace(scale=sigma**2 / (40 * 0.05)).pdf(x), rtol=1e-10)
        assert _gid(ax, "posterior")
    label = _gid(result[0], "prior")[0].get_label()
    assert "posterior median" in label and f"{sigma:.4g}" in label
    legend = [t.get_text() for t in result[0].get_legend().get_texts()]
    assert label in legend


def test_prior_vs_posterior_sigma_given_fixed_or_irrelevant(posterior):
    from scipy.stats import norm

    idata, _, _ = posterior
    ridge = prior_from_penalty("gaussian", 4.0)  # noise-scaled: sd = σ/√α
    (ax,) = plot_prior_vs_posterior(idata, ridge, 2.0, features=["b"], axes=[_axes()])
    (line,) = _gid(ax, "prior")
    np.testing.assert_allclose(line.get_ydata(), norm(0, 1.0).pdf(line.get_xdata()), rtol=1e-10)
    assert "given" in line.get_label()
    book = prior_from_penalty("laplace", 2.0, convention="book")  # not noise-scaled: b = 1/α
    (ax,) = plot_prior_vs_posterior(idata, book, features=["a"], axes=[_axes()])
    (line,) = _gid(ax, "prior")
    np.testing.assert_allclose(line.get_ydata(), 0.5 * 2.0 * np.exp(-2.0 * np.abs(line.get_xdata())))
    assert "σ" not in line.get_label()
    fixed = idata.copy()
    del fixed.posterior["sigma"]
    with pytest.raises(ValueError, match="pass sigma"):
        plot_prior_vs_posterior(fixed, ridge, axes=Figure().subplots(1, 3))
    fixed.posterior.attrs["sigma"] = 0.5
    (ax,) = plot_prior_vs_posterior(fixed, ridge, features=["a"], axes=[_axes()])
    assert "fixed" in _gid(ax, "prior")[0].get_label()


def test_forest_has_one_row_per_coefficient(posterior):
    idata, _, _ = posterior
    table = compare_map_posterior(idata, MAP)
    ax = _axes()
    assert plot_forest_map(table, ax=ax) is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == FEATURES
    (hdi,) = _gid(ax, "hdi")
    segments = np.array(hdi.get_segments())  # (3, 2, 2): one horizontal segment per coefficient
    assert segments.shape == (3, 2, 2)
    np.testing.assert_array_equal(segments[:, :, 0], table[["hdi_low", "hdi_high"]].to_numpy())
    np.testing.assert_array_equal(segments[:, 0, 1], [0, 1, 2])
    (map_line,) = _gid(ax, "map")
    np.testing.assert_array_equal(map_line.get_xdata(), MAP)
    np.testing.assert_array_equal(_gid(ax, "mean")[0].get_xdata(), table["mean"])
    assert sum(t.get_text() == "MAP exactly 0" for t in ax.texts) == 1


def test_forest_from_idata_and_map(posterior):
    idata, _, _ = posterior
    ax = plot_forest_map(idata, MAP, hdi_prob=0.5, ax=_axes())
    expected = compare_map_posterior(idata, MAP, hdi_prob=0.5)
    segments = np.array(_gid(ax, "hdi")[0].get_segments())
    np.testing.assert_array_equal(segments[:, :, 0], expected[["hdi_low", "hdi_high"]].to_numpy())
    assert "50% HDI" in [t.get_text() for t in ax.get_legend().get_texts()]
    with pytest.raises(ValueError, match="map_coef is required"):
        plot_forest_map(idata, ax=_axes())


def test_ppc_density_draws_observed_and_replicates(posterior):
    idata, _, y = posterior
    ax = _axes()
    assert plot_ppc(idata, num_draws=25, ax=ax) is ax  # from the posterior_predictive group
    assert len(_gid(ax, "replicate")) == 25
    (observed,) = _gid(ax, "observed")
    x, d = observed.get_xdata(), observed.get_ydata()
    assert x.min() < y.min() and x.max() > y.max() and np.all(d >= 0)


def test_ppc_intervals_coverage_is_predictive_coverage(posterior):
    idata, X, y = posterior
    ax = plot_ppc(idata, X=X, y=y, kind="intervals", prob=0.8, seed=5, ax=_axes())
    inside = len(_gid(ax, "observed")[0].get_xdata())
    outside = len(_gid(ax, "outside")[0].get_xdata())
    assert inside + outside == len(y)
    assert inside / len(y) == predictive_coverage(idata, X, y, prob=0.8, seed=5)
    assert len(_gid(ax, "interval")[0].get_segments()) == len(y)
    assert f"{inside / len(y):.1%} of {len(y)}" in ax.get_title()


def test_ppc_refuses_what_it_cannot_draw(posterior):
    idata, X, _ = posterior
    bare = idata.copy()
    del bare.posterior_predictive
    with pytest.raises(ValueError, match="no posterior_predictive"):
        plot_ppc(bare, ax=_axes())
    with pytest.raises(ValueError, match=r"y \(the targets of X\) is required"):
        plot_ppc(idata, X=X, ax=_axes())
    with pytest.raises(ValueError, match="unknown kind"):
        plot_ppc(idata, kind="violin", ax=_axes())


def _horseshoe_density(theta: float, global_scale: float, sigma: float) -> float:
    """The horseshoe's marginal density of one weight, from Carvalho, Polson & Scott (2010)'s closed
    form given τ, ``p(θ | τ) = K exp(u) E₁(u) / (τσ)`` with ``u = θ²/(2τ²σ²)`` and ``K = (2π³)^{-1/2}``
    (for u > 500, where exp(u) overflows, the asymptotic series ``(1 − 1/u + 2/u² − 6/u³)/u``,
    accurate to 24/u⁵), integrated over ``τ ~ C⁺(0, global_scale)`` by scipy's adaptive quadrature
    in ``log τ``."""
    from scipy import integrate
    from scipy.special import exp1

    def integrand(log_tau):
        tau = np.exp(log_tau)
        u = theta**2 / (2.0 * (tau * sigma) ** 2)
        scaled = np.exp(u) * exp1(u) if u < 500 else (1 - 1 / u + 2 / u**2 - 6 / u**3) / u
        conditional = scaled / (np.sqrt(2.0 * np.pi**3) * tau * sigma)
        return conditional * 2.0 / (np.pi * global_scale * (1.0 + (tau / global_scale) ** 2)) * tau

    breaks = [np.log(abs(theta) / sigma), np.log(global_scale)]
    return integrate.quad(integrand, -40.0, 40.0, points=breaks, limit=1000, epsabs=0.0, epsrel=1e-12)[0]


def test_plot_prior_penalties_draws_each_priors_marginal_penalty():
    """The horseshoe's curve is its marginal −log density (τ integrated by scipy's quadrature here),
    relative to |θ| = 1; L1 and L2 are |θ| − 1 and (θ² − 1)/2."""
    theta = np.array([-3.0, -0.2, 0.05, 0.5, 2.0])
    priors = {"horseshoe": Horseshoe(0.5), "rhs": RegularizedHorseshoe(n_samples=50), "r2d2": R2D2()}
    ax = plot_prior_penalties(priors, num_features=8, sigma=2.0, grid=theta, ax=_axes())
    lines = {line.get_gid(): line for line in ax.lines if line.get_gid() in ("l1", "l2")}
    np.testing.assert_array_equal(lines["l1"].get_ydata(), np.abs(theta) - 1.0)
    np.testing.assert_array_equal(lines["l2"].get_ydata(), (theta**2 - 1.0) / 2.0)
    curves = [line for line in ax.lines if line.get_gid() == "penalty"]
    assert [line.get_label() for line in curves] == list(priors)
    reference = np.array([-np.log(_horseshoe_density(t, 0.5, 2.0)) for t in [*theta, 1.0]])
    np.testing.assert_allclose(curves[0].get_ydata(), reference[:-1] - reference[-1], rtol=1e-9, atol=1e-9)
    # every sparsity penalty falls towards 0 faster than L1 (the spike: no MAP) and rises more slowly
    # far out (the heavy tails), relative to |θ| = 1
    for line in curves:
        y = line.get_ydata()
        assert y[2] < np.abs(theta[2]) - 1.0 and y[0] < (theta[0] ** 2 - 1.0) / 2.0
    # labels from describe() without a mapping
    ax = plot_prior_penalties([R2D2()], num_features=4, grid=theta, ax=_axes())
    labels = [line.get_label() for line in ax.lines if line.get_gid() == "penalty"]
    assert labels == [R2D2().describe(num_features=4)]


def test_plot_prior_penalties_refuses_what_is_not_a_sparsity_prior():
    with pytest.raises(TypeError, match=r"sparsity priors of bayesreg\.shrinkage, got Prior"):
        plot_prior_penalties([prior_from_penalty("laplace", 1.0, convention="book")], ax=_axes())
    with pytest.raises(ValueError, match="priors is empty"):
        plot_prior_penalties([], ax=_axes())
