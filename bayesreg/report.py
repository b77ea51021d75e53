"""A self-contained HTML report: sections of HTML, figures embedded as PNG data URIs.

A report is a list of `Section` objects (a title and an HTML fragment) that `render` turns into one
HTML page with no external files, scripts or fonts. `demo_sections` builds the sections of
``bayesreg demo``: the MAP under a Laplace / Gaussian prior against scikit-learn's Lasso / Ridge on
the diabetes data, which coefficients are exactly zero, and the seeds' L1/L2 geometry; then the NUTS
posterior under the same Laplace prior against its MAP (diagnostics, the comparison table, exact
zeros against intervals, prior against posterior, predictive coverage on held-out rows).

Figures are drawn on ``matplotlib.figure.Figure`` objects (never through pyplot), so building a
report does not touch the user's matplotlib backend.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    # report structure
    "Section",
    "figure_html",
    "render",
    "table_html",
    # the demo
    "DemoResult",
    "PathDemo",
    "PosteriorDemo",
    "demo_report",
    "demo_sections",
    "geometry_example",
    "path_figure",
    "path_sentence",
    "run_demo",
    "sparsity_sentence",
]


@dataclass(frozen=True)
class Section:
    """One section of a report: a title and its body, an HTML fragment (trusted, not escaped)."""

    title: str
    html: str


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 1050px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 2em;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.8em 0; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #e5e5e5; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
td.zero { color: #777; font-style: italic; }
img { max-width: 100%; height: auto; display: block; margin: 0.8em 0; }
code { background: #f4f4f4; padding: 0 0.25em; border-radius: 3px; }
.ok { color: #1a7f37; font-weight: 600; } .bad { color: #cf222e; font-weight: 600; }
.note { color: #555; font-size: 0.9em; }
"""


def render(sections: Iterable[Section], *, title: str = "bayesreg report", subtitle: str = "") -> str:
    """One self-contained HTML page of ``sections`` (in order), with a table of contents.

    Parameters
    ----------
    sections : iterable of Section
    title : str
        Page title (escaped).
    subtitle : str
        HTML fragment shown under the title.

    Returns
    -------
    str
        The HTML document.
    """
    sections = list(sections)
    toc = "".join(
        f'<li><a href="#s{i}">{html.escape(s.title)}</a></li>' for i, s in enumerate(sections, start=1)
    )
    body = "".join(
        f'<section id="s{i}"><h2>{i}. {html.escape(s.title)}</h2>\n{s.html}\n</section>\n'
        for i, s in enumerate(sections, start=1)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{subtitle}\n<ol>{toc}</ol>\n{body}</body>\n</html>\n"
    )


def figure_html(fig, alt: str, *, dpi: int = 110) -> str:
    """An ``<img>`` tag holding ``fig`` (a matplotlib Figure) as a base64 PNG data URI."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.1)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def table_html(frame: pd.DataFrame, formatters: dict | None = None, *, index: bool = True) -> str:
    """An HTML table of ``frame``; ``formatters`` maps a column to ``value -> (text, css class)``."""
    formatters = formatters or {}
    head = ([html.escape(str(frame.index.name or ""))] if index else []) + [
        html.escape(str(c)) for c in frame.columns
    ]
    rows = []
    for label, row in frame.iterrows():
        cells = [f"<td>{html.escape(str(label))}</td>"] if index else []
        for column, value in row.items():
            text, css = formatters.get(column, _plain)(value)
            klass = f' class="{css}"' if css else ""
            cells.append(f"<td{klass}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    header = "<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"
    return f"<table>\n<thead>{header}</thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"


def _plain(value):
    return (f"{value:.6g}" if isinstance(value, float) else str(value)), ""


def _coef(value):
    return ("0 (exact)", "zero") if value == 0 else (f"{value:.6f}", "")


def _delta(value):
    return f"{value:.1e}", ""


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _panel_figure(k: int, ncols: int = 5):
    """A figure with ``k`` panels in rows of ``ncols`` (its ``axes`` are the panels, in order)."""
    nrows = -(-k // ncols)
    fig = _figure(2.6 * ncols, 2.5 * nrows)
    grid = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for extra in grid[k:]:
        fig.delaxes(extra)
    return fig


def path_figure(path, names=None, *, width: float = 9.0, height: float = 5.0):
    """A ``matplotlib.figure.Figure`` with `bayesreg.plots.plot_path` of ``path`` (no pyplot)."""
    from bayesreg.plots import plot_path

    fig = _figure(width, height)
    plot_path(path, names=names, ax=fig.subplots())
    return fig


# ---------------------------------------------------------------------------------------------------
# the demo: diabetes, L1 and L2 MAP against scikit-learn


class PosteriorDemo(NamedTuple):
    """The Laplace posterior of ``bayesreg demo`` (NUTS), set against its MAP.

    Attributes
    ----------
    idata : arviz.InferenceData
        The posterior on all rows (written to ``posterior.nc``).
    table : DataFrame, shape (n_features, 10)
        `bayesreg.compare.compare_map_posterior` of ``idata`` and the MAP (94% HDI).
    sparsity : dict
        `bayesreg.compare.sparsity_summary` of ``table``.
    diagnostics : DiagnosticsReport
        ``estimator.diagnostics_`` of the fit on all rows.
    prior : bayesreg.priors.Prior
        The Laplace prior (noise-scaled: scikit-learn's Lasso convention).
    alpha : float
        The Lasso penalty strength of the prior.
    settings : dict
        ``num_warmup``, ``num_samples``, ``num_chains``, ``seed``.
    mixture : bool
        Whether the Laplace prior was sampled as a normal–exponential scale mixture (after
        divergences of the direct parametrisation).
    X, y : ndarray, shapes (n_samples, n_features), (n_samples,)
        All rows.
    X_test, y_test : ndarray, shapes (n_test, n_features), (n_test,)
        The held-out rows.
    idata_train : arviz.InferenceData
        The posterior of the same model fitted to the other rows.
    diagnostics_train : DiagnosticsReport
    coverage : float
        Share of held-out targets inside their central ``coverage_prob`` posterior predictive
        interval (`bayesreg.compare.predictive_coverage`, seed ``settings["seed"]``).
    coverage_prob : float
        The nominal level.
    """

    idata: object
    table: pd.DataFrame
    sparsity: dict
    diagnostics: object
    prior: object
    alpha: float
    settings: dict
    mixture: bool
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    idata_train: object
    diagnostics_train: object
    coverage: float
    coverage_prob: float


class DemoResult(NamedTuple):
    """What ``bayesreg demo`` computed.

    Attributes
    ----------
    coefficients : DataFrame, shape (n_features + 1, 4)
        Index: feature names then ``"intercept"``; columns ``bayesreg_l1``, ``sklearn_lasso``,
        ``bayesreg_l2``, ``sklearn_ridge``.
    lasso_alpha, ridge_alpha : float
        scikit-learn penalty strengths used.
    sigma_l1, sigma_l2 : float
        Noise sd σ (its MAP) of the two bayesreg fits.
    n_samples : int
    max_delta_l1, max_delta_l2 : float
        max |Δcoef| between bayesreg and scikit-learn, weights and intercept.
    same_zeros_l1, same_zeros_l2 : bool
        Whether both give exactly the same set of exact zeros.
    converged : bool
        Whether both MAP fits met their convergence criterion.
    posterior : PosteriorDemo or None
        The NUTS posterior under the Laplace prior (None when not sampled).
    path : PathDemo or None
        The MAP path and the posterior path of the Laplace model (None when not computed).
    """

    coefficients: pd.DataFrame
    lasso_alpha: float
    ridge_alpha: float
    sigma_l1: float
    sigma_l2: float
    n_samples: int
    max_delta_l1: float
    max_delta_l2: float
    same_zeros_l1: bool
    same_zeros_l2: bool
    converged: bool
    posterior: PosteriorDemo | None = None
    path: PathDemo | None = None


class PathDemo(NamedTuple):
    """The regularisation paths of ``bayesreg demo`` (Laplace prior, scikit-learn's Lasso convention).

    Attributes
    ----------
    map_path : bayesreg.MAPPath
        The MAP (= lasso) path on scikit-learn's default grid of 100 α.
    posterior : bayesreg.PosteriorPath
        The NUTS posterior (σ sampled) on a coarse grid (`PATH_SETTINGS`), with its own MAP path.
    names : list of str
        Feature names.
    settings : dict
        ``n_alphas``, ``num_warmup``, ``num_samples``, ``num_chains``, ``seed`` of the posterior path.
    """

    map_path: object
    posterior: object
    names: list
    settings: dict


HDI_PROB = 0.94
COVERAGE_PROB = 0.9
TEST_SIZE = 0.2
# the demo's posterior path: a coarse grid and short chains (one NUTS call for the grid)
PATH_SETTINGS = {"n_alphas": 12, "num_warmup": 200, "num_samples": 200, "num_chains": 4}


def run_demo(
    *,
    lasso_alpha: float = 0.1,
    ridge_alpha: float = 0.1,
    posterior: bool = True,
    path: bool = True,
    num_warmup: int = 500,
    num_samples: int = 500,
    num_chains: int = 4,
    seed: int = 0,
) -> DemoResult:
    """Fit L1 and L2 MAP on scikit-learn's diabetes data and the matching Lasso and Ridge.

    scikit-learn is run to tight tolerances (Lasso ``tol=1e-12``, Ridge by Cholesky), so the
    differences measure bayesreg's error, not scikit-learn's. With ``posterior`` the Laplace model
    is also sampled with NUTS (``BayesianLinearRegression(prior="laplace", method="nuts")``, whose
    MAP is the L1 column): once on all rows, once on 80% of them to measure the posterior predictive
    coverage of the other 20% (a split fixed by ``random_state=0``). Diagnostics warnings of the
    fits (`bayesreg.diagnostics.PosteriorWarning`) are raised as usual.

    Parameters
    ----------
    lasso_alpha, ridge_alpha : float
        scikit-learn penalty strengths.
    posterior : bool
        Sample the Laplace posterior.
    path : bool
        Compute the Laplace model's MAP path (100 α) and posterior path (`PATH_SETTINGS`: a coarse
        grid and short chains, one NUTS call; seed ``seed``).
    num_warmup, num_samples, num_chains, seed : int
        NUTS settings of the Laplace posterior (the posterior path has its own, `PATH_SETTINGS`).

    Returns
    -------
    DemoResult
    """
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Lasso, Ridge

    from bayesreg.estimators import BayesianLinearRegression

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    settings = {"num_warmup": num_warmup, "num_samples": num_samples, "num_chains": num_chains}
    nuts = {"method": "nuts", **settings, "random_state": seed} if posterior else {}
    l1 = BayesianLinearRegression(prior="laplace", alpha=lasso_alpha, **nuts).fit(X, y)
    l2 = BayesianLinearRegression(prior="gaussian", alpha=ridge_alpha).fit(X, y)
    lasso = Lasso(alpha=lasso_alpha, tol=1e-12, max_iter=100_000).fit(X, y)
    ridge = Ridge(alpha=ridge_alpha, solver="cholesky").fit(X, y)

    def column(est):
        # the MAP (coef_ holds the posterior mean after a NUTS fit); + 0.0 turns -0.0 (which
        # scikit-learn's coordinate descent leaves) into 0.0
        if hasattr(est, "map_"):
            coef, intercept = est.map_.params["coef"], est.map_.params["intercept"]
        else:
            coef, intercept = est.coef_, est.intercept_
        return np.append(np.asarray(coef, dtype=float), float(intercept)) + 0.0

    index = pd.Index([*map(str, X.columns), "intercept"], name="feature")
    table = pd.DataFrame(
        {
            "bayesreg_l1": column(l1),
            "sklearn_lasso": column(lasso),
            "bayesreg_l2": column(l2),
            "sklearn_ridge": column(ridge),
        },
        index=index,
    )
    weights = slice(0, X.shape[1])
    return DemoResult(
        coefficients=table,
        lasso_alpha=float(lasso_alpha),
        ridge_alpha=float(ridge_alpha),
        sigma_l1=float(l1.sigma_),
        sigma_l2=float(l2.sigma_),
        n_samples=int(X.shape[0]),
        max_delta_l1=float(np.abs(table.bayesreg_l1 - table.sklearn_lasso).max()),
        max_delta_l2=float(np.abs(table.bayesreg_l2 - table.sklearn_ridge).max()),
        same_zeros_l1=bool(
            np.array_equal(table.bayesreg_l1[weights] == 0, table.sklearn_lasso[weights] == 0)
        ),
        same_zeros_l2=bool(
            np.array_equal(table.bayesreg_l2[weights] == 0, table.sklearn_ridge[weights] == 0)
        ),
        converged=bool(l1.map_.converged and l2.map_.converged),
        posterior=_posterior_demo(l1, X, y, {**settings, "seed": seed}) if posterior else None,
        path=_path_demo(X, y, seed) if path else None,
    )


def _path_demo(X: pd.DataFrame, y: pd.Series, seed: int) -> PathDemo:
    from bayesreg.path import alpha_grid, map_path, posterior_path

    names = [str(c) for c in X.columns]
    X, y = X.to_numpy(float), y.to_numpy(float)
    fine = map_path(X, y, alpha_grid(X, y, n_alphas=100))
    nuts = {k: v for k, v in PATH_SETTINGS.items() if k != "n_alphas"}
    alphas = alpha_grid(X, y, n_alphas=PATH_SETTINGS["n_alphas"])
    sampled = posterior_path(X, y, alphas, seed=seed, **nuts)
    return PathDemo(map_path=fine, posterior=sampled, names=names, settings={**PATH_SETTINGS, "seed": seed})


def _posterior_demo(fitted, X, y, settings: dict) -> PosteriorDemo:
    """The posterior part of the demo from the NUTS fit on all rows, plus the held-out fit."""
    from sklearn.base import clone
    from sklearn.model_selection import train_test_split

    from bayesreg.compare import compare_map_posterior, predictive_coverage, sparsity_summary
    from bayesreg.priors import prior_from_penalty

    fit = fitted.posterior_fit_
    table = compare_map_posterior(fit.idata, fit.map.params["coef"], hdi_prob=HDI_PROB)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=TEST_SIZE, random_state=0)
    train = clone(fitted).fit(X_train, y_train)
    X_test, y_test = X_test.to_numpy(float), y_test.to_numpy(float)
    coverage = predictive_coverage(
        train.posterior_fit_.idata, X_test, y_test, prob=COVERAGE_PROB, seed=settings["seed"]
    )
    return PosteriorDemo(
        idata=fit.idata,
        table=table,
        sparsity=sparsity_summary(table),
        diagnostics=fit.diagnostics,
        prior=prior_from_penalty("laplace", fitted.alpha, convention=fitted.convention, n_samples=len(X)),
        alpha=float(fitted.alpha),
        settings=settings,
        mixture=fit.parametrisation == "mixture",
        X=X.to_numpy(float),
        y=y.to_numpy(float),
        X_test=X_test,
        y_test=y_test,
        idata_train=train.posterior_fit_.idata,
        diagnostics_train=train.posterior_fit_.diagnostics,
        coverage=coverage,
        coverage_prob=COVERAGE_PROB,
    )


def geometry_example() -> tuple[np.ndarray, np.ndarray, float]:
    """The 2-feature problem of the geometry figures: ``X`` (40, 2), ``y`` (40,), and ``alpha``.

    Correlated features with least-squares solution ``w* ≈ (1.40, 0.52)``; with ``α = 20`` (book
    convention, σ = 1) the L1 optimum lands on the ``w₁`` axis (``w̃₂ = 0`` exactly) while the L2
    optimum only shrinks both weights.
    """
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 2)) @ np.array([[1.0, 0.0], [0.6, 0.5]])
    y = X @ np.array([1.5, 0.6]) + 0.8 * rng.normal(size=40)
    return X, y, 20.0


def _verdict(ok: bool, yes: str = "yes", no: str = "no") -> str:
    return f'<span class="ok">{yes}</span>' if ok else f'<span class="bad">{no}</span>'


def demo_sections(result: DemoResult) -> list[Section]:
    """The sections of the demo report.

    Idea, coefficients, sparsity, geometry; with a posterior also its diagnostics, the MAP against
    the posterior, prior against posterior and predictive coverage; then how it was made.
    """
    sections = [
        _idea_section(result),
        _coefficient_section(result),
        _sparsity_section(result),
        _geometry_section(),
    ]
    if result.posterior is not None:
        p = result.posterior
        sections += [
            _diagnostics_section(p),
            _map_vs_posterior_section(p),
            _prior_vs_posterior_section(p),
            _predictive_section(p),
        ]
    if result.path is not None:
        sections.append(_path_section(result.path))
    sections.append(_provenance_section(result))
    return sections


def _idea_section(r: DemoResult) -> Section:
    body = f"""
<p>An L1 penalty is a Laplace prior and an L2 penalty a Gaussian prior: the penalised estimate is
the posterior mode (MAP). Here bayesreg computes the MAP of a NumPyro linear-regression model by SVI
with an <code>AutoDelta</code> guide and compares it with scikit-learn's
<code>Lasso</code> and <code>Ridge</code> on scikit-learn's diabetes data
({r.n_samples} patients, {len(r.coefficients) - 1} standardised features, target: disease progression
after one year).</p>
<table>
<thead><tr><th>scikit-learn</th><th>objective</th><th>prior in bayesreg (σ = noise sd, n = rows)</th>
</tr></thead>
<tbody>
<tr><td>Lasso(α)</td><td>(1/2n)‖y − Xw‖² + α‖w‖₁</td>
<td>w<sub>j</sub> ~ Laplace(0, b), b = σ²/(nα)</td></tr>
<tr><td>Ridge(α)</td><td>‖y − Xw‖² + α‖w‖²</td>
<td>w<sub>j</sub> ~ Normal(0, σ/√α)</td></tr>
</tbody></table>
<p class="note">The priors are conditional on σ, so the MAP of the weights is the penalised estimate
whatever σ is; the intercept has a flat prior (it is not penalised).</p>
"""
    return Section("A penalty is a prior", body)


def _coefficient_section(r: DemoResult) -> Section:
    t = r.coefficients
    b = r.sigma_l1**2 / (r.n_samples * r.lasso_alpha)
    sd = r.sigma_l2 / np.sqrt(r.ridge_alpha)
    shown = pd.DataFrame(
        {
            "bayesreg MAP, Laplace": t.bayesreg_l1,
            "sklearn Lasso": t.sklearn_lasso,
            "|Δ| L1": (t.bayesreg_l1 - t.sklearn_lasso).abs(),
            "bayesreg MAP, Gaussian": t.bayesreg_l2,
            "sklearn Ridge": t.sklearn_ridge,
            "|Δ| L2": (t.bayesreg_l2 - t.sklearn_ridge).abs(),
        },
        index=t.index,
    )
    fmt = {c: (_delta if c.startswith("|Δ|") else _coef) for c in shown.columns}
    bound_l1 = 1e-6 * max(1.0, float(t.sklearn_lasso.abs().max()))
    bound_l2 = 1e-6 * max(1.0, float(t.sklearn_ridge.abs().max()))

    fig = _figure(10.5, 4.6)
    left, right = fig.subplots(1, 2, sharey=True)
    from bayesreg.plots import plot_coefficients

    names = list(t.index[:-1])
    plot_coefficients(
        t.bayesreg_l1.iloc[:-1],
        t.sklearn_lasso.iloc[:-1],
        names=names,
        reference_label="sklearn Lasso",
        label="bayesreg MAP (Laplace prior)",
        ax=left,
    )
    left.set_title(f"L1: Lasso α = {r.lasso_alpha:g}")
    plot_coefficients(
        t.bayesreg_l2.iloc[:-1],
        t.sklearn_ridge.iloc[:-1],
        names=names,
        reference_label="sklearn Ridge",
        label="bayesreg MAP (Gaussian prior)",
        ax=right,
    )
    right.set_title(f"L2: Ridge α = {r.ridge_alpha:g}")
    body = f"""
<p><b>L1:</b> Lasso α = {r.lasso_alpha:g} ↔ Laplace prior with scale
b = σ²/(nα) = {r.sigma_l1:.4g}² / ({r.n_samples} × {r.lasso_alpha:g}) = {b:.4g}
(σ = {r.sigma_l1:.4g}, its MAP).
max |Δcoef| = <b>{r.max_delta_l1:.1e}</b> (weights and intercept;
bound 1e-6·max(1, ‖w‖∞) = {bound_l1:.1e}: {_verdict(r.max_delta_l1 <= bound_l1, "within", "exceeded")});
identical sets of exact zeros: {_verdict(r.same_zeros_l1)}.</p>
<p><b>L2:</b> Ridge α = {r.ridge_alpha:g} ↔ Gaussian prior with sd
σ/√α = {r.sigma_l2:.4g} / √{r.ridge_alpha:g} = {sd:.4g} (σ = {r.sigma_l2:.4g}, its MAP).
max |Δcoef| = <b>{r.max_delta_l2:.1e}</b> (bound {bound_l2:.1e}:
{_verdict(r.max_delta_l2 <= bound_l2, "within", "exceeded")});
identical sets of exact zeros: {_verdict(r.same_zeros_l2)}.</p>
<p>Both MAP fits converged: {_verdict(r.converged)}.</p>
{table_html(shown, fmt)}
{figure_html(fig, "bayesreg MAP against scikit-learn Lasso and Ridge, per feature")}
"""
    return Section("Coefficients: bayesreg MAP against scikit-learn", body)


def _sparsity_section(r: DemoResult) -> Section:
    from bayesreg.plots import plot_sparsity

    t = r.coefficients.iloc[:-1]
    zeros_l1 = [str(n) for n in t.index[t.bayesreg_l1 == 0]]
    zeros_l2 = [str(n) for n in t.index[t.bayesreg_l2 == 0]]
    fig = _figure(10.0, 2.6)
    ax = fig.subplots()
    plot_sparsity(
        {
            f"L1, Laplace prior (Lasso α = {r.lasso_alpha:g})": t.bayesreg_l1,
            f"L2, Gaussian prior (Ridge α = {r.ridge_alpha:g})": t.bayesreg_l2,
        },
        names=list(t.index),
        ax=ax,
    )

    def listed(zeros):
        return ", ".join(html.escape(z) for z in zeros) if zeros else "none"

    body = f"""
<p>Under the L1 penalty (Laplace prior) the MAP sets {len(zeros_l1)} of {len(t)} coefficients
exactly to 0 ({listed(zeros_l1)}): the features are dropped, which is the lasso's feature selection.
Under the L2 penalty (Gaussian prior) the exact zeros are: {listed(zeros_l2)}; ridge shrinks
every weight but removes none. With a diagonal Hessian the seeds give the reason: L1 soft-thresholds,
wᵢ = sign(wᵢ*)·max(|wᵢ*| − α/Hᵢᵢ, 0), while L2 rescales, wᵢ = Hᵢᵢ/(Hᵢᵢ + α)·wᵢ*.</p>
{figure_html(fig, "exact zeros of the coefficients under L1 and L2")}
<p class="note">Grey cells marked 0 are exact zeros (not small numbers); colours show sign and size
relative to the largest coefficient of the row.</p>
"""
    return Section("Sparsity: which coefficients are exactly zero", body)


def _geometry_section() -> Section:
    from bayesreg.plots import plot_penalty_geometry

    X, y, alpha = geometry_example()
    fig = _figure(10.5, 5.6)
    left, right = fig.subplots(1, 2)
    plot_penalty_geometry(X, y, alpha, kind="gaussian", ax=left)
    plot_penalty_geometry(X, y, alpha, kind="laplace", ax=right)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    H = Xc.T @ Xc
    w_star = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    closed = np.linalg.solve(H + alpha * np.eye(2), H @ w_star)
    w_l2 = _line_data(left, "w_tilde")
    w_l1 = _line_data(right, "w_tilde")
    body = f"""
<p>A 2-feature problem ({X.shape[0]} rows, correlated features, centred, no intercept, σ = 1) with
the book convention: J̃(w) = J(w) + (α/2)‖w‖² (Gaussian prior, sd 1/√α) and J̃(w) = J(w) + α‖w‖₁
(Laplace prior, scale 1/α), α = {alpha:g}, J(w) = ‖y − Xw‖²/2. Ellipses: contours of J around the
least-squares w*; the dark one passes through the regularised optimum w̃, where it touches the
penalty's contour (circle for L2, diamond for L1). w̃ is the MAP computed by
<code>bayesreg.map_estimate</code>, not drawn by hand.</p>
{figure_html(fig, "contours of J with the L2 circle and the L1 diamond through the MAP")}
<p>L2: w̃ = ({w_l2[0]:.6f}, {w_l2[1]:.6f}); the seeds' closed form (H + αI)⁻¹Hw* =
({closed[0]:.6f}, {closed[1]:.6f}), max difference {np.abs(w_l2 - closed).max():.1e}.
L1: w̃ = ({_num(w_l1[0])}, {_num(w_l1[1])}): the diamond's corner on the axis touches the contour
first, so w̃₂ is exactly 0 although w*₂ = {w_star[1]:.3f}.</p>
"""
    return Section("Geometry of the L1 and L2 penalties (the seeds' figures 7-1-1a, 7-1-2a)", body)


def _line_data(ax, gid: str) -> np.ndarray:
    line = next(line for line in ax.lines if line.get_gid() == gid)
    return np.array([line.get_xdata()[0], line.get_ydata()[0]], dtype=float)


def _num(v: float) -> str:
    return "0 (exact)" if v == 0 else f"{v:.6f}"


def _names(table: pd.DataFrame, mask) -> str:
    names = [str(n) for n in table.index[np.asarray(mask, dtype=bool)]]
    return ", ".join(names) if names else "none"


def sparsity_sentence(table: pd.DataFrame) -> str:
    """The demo's sentence on exact zeros, in numbers, from a `compare_map_posterior` table.

    For example: "The Laplace MAP has 3 exact zeros (age, s2, s4); the posterior mean has 0 and the
    posterior median 0; 5 of 10 94% HDIs contain 0 (age, s1, s2, s4, s6)." Every number comes
    from `bayesreg.compare.sparsity_summary`.
    """
    from bayesreg.compare import sparsity_summary

    c = sparsity_summary(table)
    prob = table.attrs.get("hdi_prob", HDI_PROB)
    text = (
        f"The Laplace MAP has {c['map_zeros']} exact zeros ({_names(table, table['map_is_zero'])}); "
        f"the posterior mean has {c['posterior_mean_zeros']} and the posterior median "
        f"{c['posterior_median_zeros']}; {c['hdi_contains_zero']} of {c['n_features']} {prob:.0%} HDIs "
        f"contain 0 ({_names(table, table['hdi_contains_zero'])})."
    )
    excluded = c["map_zero_but_hdi_excludes_zero"]
    if excluded:
        text += f" {excluded} of the MAP's zeros {'has' if excluded == 1 else 'have'} an HDI that excludes 0."
    elif c["map_zeros"]:
        text += " Every MAP zero has an HDI that contains 0."
    return text


def _settings_text(p: PosteriorDemo) -> str:
    s = p.settings
    how = (
        "as a non-centred normal–exponential scale mixture (the direct density diverged)"
        if p.mixture
        else "through its density directly (no divergences, so no scale mixture was needed)"
    )
    return (
        f"{s['num_chains']} chains × ({s['num_warmup']} warmup + {s['num_samples']} draws), seed "
        f"{s['seed']}; the Laplace prior sampled {how}"
    )


def _diagnostic_rows(report) -> list[tuple[str, str, str, bool]]:
    return [
        ("max rank-normalised R-hat", f"{report.max_rhat:.4f}", "≤ 1.01", report.max_rhat <= 1.01),
        ("min bulk ESS", f"{report.min_ess_bulk:.0f}", "≥ 400", report.min_ess_bulk >= 400),
        ("min tail ESS", f"{report.min_ess_tail:.0f}", "≥ 400", report.min_ess_tail >= 400),
        ("divergent transitions", f"{report.divergences}", "0", report.divergences == 0),
        ("min E-BFMI", f"{report.min_ebfmi:.2f}", "≥ 0.3", report.min_ebfmi >= 0.3),
        (
            "draws at the maximum tree depth",
            f"{report.tree_depth_saturation:.1%}",
            "0%",
            report.tree_depth_saturation == 0,
        ),
    ]


def _diagnostics_section(p: PosteriorDemo) -> Section:
    n_train = len(p.y) - len(p.y_test)
    rows = []
    for (name, value, bound, ok), (_, value_train, _, ok_train) in zip(
        _diagnostic_rows(p.diagnostics), _diagnostic_rows(p.diagnostics_train), strict=True
    ):
        rows.append(
            f"<tr><td>{name}</td><td>{value} {_verdict(ok, '✓', '✗')}</td>"
            f"<td>{value_train} {_verdict(ok_train, '✓', '✗')}</td><td>{bound}</td></tr>"
        )
    problems = [*p.diagnostics.problems, *p.diagnostics_train.problems]
    if problems:
        listed = "".join(f"<li>{html.escape(m)}</li>" for m in dict.fromkeys(problems))
        verdict = f'<p><span class="bad">Warnings</span> (as printed by the command):</p><ul>{listed}</ul>'
    else:
        verdict = '<p><span class="ok">No diagnostic crossed its threshold</span> in either fit.</p>'
    body = f"""
<p>The same model as the L1 MAP — Gaussian likelihood with unknown σ, Laplace prior with scale
b = σ²/(nα), flat intercept — sampled with NUTS by
<code>BayesianLinearRegression(prior="laplace", alpha={p.alpha:g}, method="nuts")</code>:
{html.escape(_settings_text(p))}. Its MAP is the L1 column above. A second fit on {n_train} of the
{len(p.y)} rows serves the predictive check below. The figures come from ArviZ
(<code>estimator.diagnostics_</code>).</p>
<table>
<thead><tr><th>diagnostic</th><th>all {len(p.y)} rows</th><th>{n_train} training rows</th>
<th>threshold</th></tr></thead>
<tbody>
{"".join(rows)}
</tbody></table>
{verdict}
"""
    return Section("The posterior (NUTS): diagnostics first", body)


def _percent(value):
    return f"{value:.2f}", ""


def _flag(value):
    return ("yes", "zero") if value else ("no", "")


def _map_vs_posterior_section(p: PosteriorDemo) -> Section:
    from bayesreg.plots import plot_forest_map, plot_posterior_vs_map

    t = p.table
    prob = t.attrs["hdi_prob"]
    eps = t.attrs["eps"]
    shown = pd.DataFrame(
        {
            "MAP (Lasso)": t["map"],
            "mean": t["mean"],
            "median": t["median"],
            "sd": t["sd"],
            f"{prob:.0%} HDI low": t["hdi_low"],
            f"{prob:.0%} HDI high": t["hdi_high"],
            "P(coef > 0)": t["p_positive"],
            f"P(|coef| < {eps:.3g})": t["p_near_zero"],
            "HDI contains 0": t["hdi_contains_zero"],
        },
        index=t.index,
    )
    fmt = {c: _coef if c == "MAP (Lasso)" else _plain for c in shown.columns}
    fmt.update({"P(coef > 0)": _percent, f"P(|coef| < {eps:.3g})": _percent, "HDI contains 0": _flag})
    for column in ("mean", "median", "sd", f"{prob:.0%} HDI low", f"{prob:.0%} HDI high"):
        fmt[column] = lambda v: (f"{v:.2f}", "")

    zero = t["map_is_zero"].to_numpy(bool)
    dropped = ""
    if zero.any():
        share = t["p_positive"][zero]
        dropped = (
            f" For the coefficients the lasso drops, P(coef &gt; 0) runs from {share.min():.2f} "
            f"({html.escape(str(share.idxmin()))}) to {share.max():.2f} ({html.escape(str(share.idxmax()))}):"
            " the posterior keeps them, with either sign."
        )
    forest = _figure(7.5, 4.6)
    plot_forest_map(t, ax=forest.subplots())
    panels = _panel_figure(len(t))
    plot_posterior_vs_map(p.idata, t["map"].to_numpy(), hdi_prob=prob, axes=panels.axes)
    body = f"""
<p><b>{html.escape(sparsity_sentence(t))}</b></p>
<p>The MAP is the posterior's mode, and under a Laplace prior the mode sits exactly at 0 whenever
the data do not pull hard enough; the posterior itself is continuous, so no draw, mean or median is
exactly 0.{dropped} An interval that contains 0 does not make a coefficient 0, nor does a MAP of
0. ε = {eps:.3g} is 1% of the largest absolute posterior mean.</p>
{table_html(shown, fmt)}
{figure_html(forest, "posterior HDIs and means against the MAP, per coefficient")}
{figure_html(panels, "posterior density of each coefficient with the MAP and the mean marked")}
"""
    return Section("What the MAP leaves out: the posterior against the penalised estimate", body)


def _prior_vs_posterior_section(p: PosteriorDemo) -> Section:
    from bayesreg.plots import plot_prior_vs_posterior

    sigma = float(np.median(p.idata.posterior["sigma"].to_numpy()))
    b = float(1.0 / p.prior.rates(sigma)[0])
    prior_sd = np.sqrt(2.0) * b
    sds = p.table["sd"]
    fig = _panel_figure(len(sds))
    plot_prior_vs_posterior(p.idata, p.prior, axes=fig.axes)
    body = f"""
<p>Dashed: the Laplace prior of each weight, Laplace(0, b) with b = σ²/(nα); it is conditional on the
noise sd σ, which is unknown, so it is drawn at σ = {sigma:.4g}, the posterior median
(b = {b:.4g}, prior sd √2·b = {prior_sd:.4g}). Solid: the posterior. Its sds run from
{sds.min():.3g} ({html.escape(str(sds.idxmin()))}) to {sds.max():.3g}
({html.escape(str(sds.idxmax()))}): the {len(p.y)} rows make {int((sds < prior_sd).sum())} of the
{len(sds)} weights narrower than the prior.</p>
{figure_html(fig, "prior density against posterior density, per coefficient")}
"""
    return Section("Prior against posterior", body)


def _skewness(values: np.ndarray) -> np.ndarray:
    """Sample skewness along the last axis."""
    centred = values - values.mean(axis=-1, keepdims=True)
    return (centred**3).mean(axis=-1) / (centred**2).mean(axis=-1) ** 1.5


def _predictive_section(p: PosteriorDemo) -> Section:
    from bayesreg.compare import predictive_draws
    from bayesreg.plots import plot_ppc

    n_test, n = len(p.y_test), len(p.y)
    prob, seed = p.coverage_prob, p.settings["seed"]
    se = np.sqrt(prob * (1 - prob) / n_test)
    fig = _figure(13.0, 4.6)
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.4])
    plot_ppc(p.idata, X=p.X, y=p.y, kind="density", seed=seed, ax=left)
    left.set_title(f"all {n} rows: observed y against replicated data sets", fontsize=9)
    plot_ppc(p.idata_train, X=p.X_test, y=p.y_test, kind="intervals", prob=prob, seed=seed, ax=right)
    within = abs(p.coverage - prob) <= 2 * se
    # the replicated data sets of the left panel: a posterior predictive p-value of the skewness
    replicated = predictive_draws(p.idata, p.X, seed=seed)  # the draws plot_ppc(X=, y=) shows
    skew_rep, skew_obs = _skewness(replicated), float(_skewness(p.y))
    p_value = float(np.mean(skew_rep >= skew_obs))
    reproduces = "does not reproduce" if min(p_value, 1 - p_value) < 0.025 else "reproduces"
    body = f"""
<p><b>Held-out coverage:</b> fitted to {n - n_test} rows, the {prob:.0%} central posterior predictive
intervals cover <b>{p.coverage:.1%}</b> of the other {n_test} targets (nominal {prob:.0%}; a
calibrated model covers {prob:.0%} ± {2 * se:.1%}, two binomial standard errors, of {n_test} rows:
{_verdict(within, "within", "outside")}). Each predictive draw is intercept + x·coef + σε with one
posterior draw of (coef, intercept, σ) (<code>bayesreg.compare.predictive_coverage</code>, seed
{seed}).</p>
<p>Left: the density of the observed targets against data sets replicated from the posterior
predictive at the same rows. The skewness of the observed y is {skew_obs:.2f}, that of the
{len(skew_rep)} replicated data sets {np.mean(skew_rep):.2f} ± {np.std(skew_rep):.2f}
(P(replicated ≥ observed) = {p_value:.3f}): the Gaussian likelihood {reproduces} the observed skew.
Right: the held-out intervals, sorted by predictive median; red dots fall outside.</p>
{figure_html(fig, "posterior predictive check in sample and on held-out rows")}
"""
    return Section("Posterior predictive check and held-out coverage", body)


def path_sentence(path, names) -> str:
    """The demo's sentence on the posterior path, in numbers, from a `bayesreg.PosteriorPath`.

    It picks the grid point with the most exact zeros of the MAP short of all of them (the strongest
    penalty that keeps some weight) and gives the widths of the posterior HDIs of the zeroed weights
    there; then the counts over the whole grid. For example (the demo's posterior path, seed 0):
    "At α = 1.15 the MAP has 8 of 10 coefficients exactly 0 (age, sex, bp, s1, s2, s3, s4, s6), while
    the 94% HDIs of those 8 still have widths from 49.8 to 149 (median 89.5). Over the 12 α of the
    grid the MAP is exactly 0 in 45 of 120 (α, coefficient) pairs, the posterior median in 0."
    """
    names = [str(n) for n in names]
    zeros = path.map.coefs == 0
    counts = zeros.sum(axis=1)
    n_alphas, p = zeros.shape
    partial = np.flatnonzero((counts > 0) & (counts < p))
    medians_zero = int((path.median == 0).sum())
    tail = (
        f"Over the {n_alphas} α of the grid the MAP is exactly 0 in {int(zeros.sum())} of {zeros.size} "
        f"(α, coefficient) pairs, the posterior median in {medians_zero}."
    )
    if partial.size == 0:
        return tail
    i = partial[np.argmax(counts[partial])]  # the first (largest α) of those with the most zeros
    widths = (path.hdi_high - path.hdi_low)[i, zeros[i]]
    zeroed = ", ".join(n for n, z in zip(names, zeros[i], strict=True) if z)
    return (
        f"At α = {path.alphas[i]:.3g} the MAP has {counts[i]} of {p} coefficients exactly 0 ({zeroed}), "
        f"while the {path.hdi_prob:.0%} HDIs of those {counts[i]} still have widths from "
        f"{widths.min():.3g} to {widths.max():.3g} (median {np.median(widths):.3g}). {tail}"
    )


def _path_section(d: PathDemo) -> Section:
    from bayesreg.plots import plot_path

    post, s = d.posterior, d.settings
    fig = _figure(13.0, 5.0)
    left, right = fig.subplots(1, 2)
    plot_path(d.map_path, names=d.names, legend=False, ax=left)
    left.set_title(
        f"MAP (lasso) path, {len(d.map_path.alphas)} α: exact zeros until a weight enters", fontsize=9
    )
    plot_path(post, names=d.names, ax=right)
    diagnostics = (
        f"max R-hat {post.max_r_hat.max():.3f}, min bulk ESS {post.min_ess_bulk.min():.0f}, "
        f"{int(post.divergences.sum())} divergences over the grid"
    )
    how = " (the Laplace prior as a scale mixture at some α)" if post.mixture.any() else ""
    body = f"""
<p>The same Laplace model along a grid of penalty strengths (scikit-learn's Lasso convention,
<code>bayesreg.map_path</code> and <code>bayesreg.posterior_path</code>). Left: the MAP path, which is
scikit-learn's <code>lasso_path</code>: each weight is exactly 0 until α falls below the point where
the data pull it away from 0. Right: on a coarse grid of {s["n_alphas"]} α, the posterior median
(dashed) and {post.hdi_prob:.0%} HDI (band) of every weight next to its MAP (solid).</p>
<p><b>{html.escape(path_sentence(post, d.names))}</b></p>
<p>The lasso's zeros are a property of the mode, not of the posterior: where the MAP is 0 the
posterior still spreads over both signs. NUTS at every α, all in one call:
{s["num_chains"]} chains × ({s["num_warmup"]} warmup + {s["num_samples"]} draws) per α, seed
{s["seed"]}{how}; {diagnostics} (short chains: read the bands as indicative).</p>
{figure_html(fig, "MAP path, and posterior medians and HDIs along the grid of alpha")}
"""
    return Section("The regularisation path: where the MAP is 0 and the posterior is not", body)


def _provenance_section(result: DemoResult) -> Section:
    from importlib.metadata import PackageNotFoundError, version

    def v(name):
        try:
            return version(name)
        except PackageNotFoundError:  # pragma: no cover - all are dependencies
            return "not installed"

    packages = ["bayesreg", "numpyro", "jax", "arviz", "scikit-learn", "numpy", "matplotlib"]
    listed = ", ".join(f"{name} {html.escape(v(name))}" for name in packages)
    posterior = ""
    if result.posterior is not None:
        s = result.posterior.settings
        posterior = (
            "<p>The posterior is in <code>posterior.nc</code> (ArviZ InferenceData: "
            "<code>arviz.from_netcdf</code>); NUTS ran with "
            f"<code>--num-warmup {s['num_warmup']} --num-samples {s['num_samples']} "
            f"--num-chains {s['num_chains']} --seed {s['seed']}</code>, and the same options "
            "repeat it. The held-out rows are <code>train_test_split(test_size=0.2, "
            "random_state=0)</code>.</p>"
        )
    body = f"""
<p>Made by <code>bayesreg demo --out DIR</code> (<code>make demo</code> writes
<code>out/demo/</code>), which also writes <code>coefficients.csv</code> with the four columns of the
MAP table. scikit-learn was run with <code>Lasso(tol=1e-12, max_iter=100000)</code> and
<code>Ridge(solver="cholesky")</code>; bayesreg in float64.</p>
{posterior}
<p class="note">Versions: {listed}.</p>
"""
    return Section("How this report was made", body)


def demo_report(result: DemoResult | None = None) -> str:
    """The demo report as one HTML page (runs `run_demo` when ``result`` is not given)."""
    result = run_demo() if result is None else result
    sections = demo_sections(result)
    subtitle = (
        '<p class="note">L1 and L2 penalised regression as MAP estimates under Laplace and Gaussian '
        "priors, checked against scikit-learn"
        + ("; then the whole Laplace posterior against its MAP." if result.posterior else ".")
        + "</p>"
    )
    return render(sections, title="bayesreg demo: a penalty is a prior", subtitle=subtitle)
