"""A self-contained HTML report: sections of HTML, figures embedded as PNG data URIs.

A report is a list of `Section` objects (a title and an HTML fragment) that `render` turns into one
HTML page with no external files, scripts or fonts. `demo_report` renders what `bayesreg.demo.run_demo`
computed (a `~bayesreg.demo.DemoResult`): the MAP under a Laplace / Gaussian prior against
scikit-learn's Lasso / Ridge on the diabetes data, which coefficients are exactly zero, and the
seeds' L1/L2 geometry; then the NUTS posterior under the same Laplace prior against its MAP
(diagnostics, the comparison table, exact zeros against intervals, prior against posterior,
predictive coverage on held-out rows) and along a grid of penalty strengths; the fixed α beside
the α that cross-validation and empirical Bayes learn and the posterior of α under a hyperprior;
which prior predicts best (ArviZ's ``compare`` table and plot, beside the penalty each sparsity
prior implies); and a sparse answer from the posterior (projection predictive selection, interval
exclusion, DSS and LassoCV's support). Every number in its
tables and sentences is a field of that result; this module draws and writes, it does not fit.

Figures are drawn on ``matplotlib.figure.Figure`` objects (never through pyplot), so building a
report does not touch the user's matplotlib backend.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesreg.defaults import THRESHOLDS
from bayesreg.demo import (
    LASSO_OPTIONS,
    MAP_ATOL,
    MAP_RTOL,
    RIDGE_OPTIONS,
    SPLIT_OPTIONS,
    ComparisonDemo,
    DemoResult,
    GeometryDemo,
    LearnedAlphaDemo,
    PathDemo,
    PosteriorDemo,
    SelectionDemo,
)

__all__ = [
    # report structure
    "Section",
    "figure_html",
    "gate_banner",
    "render",
    "table_html",
    # figures and sentences of results
    "path_figure",
    "path_sentence",
    "sparsity_sentence",
    # the demo
    "demo_report",
    "demo_sections",
]


@dataclass(frozen=True)
class Section:
    """One section of a report: a title and its body, an HTML fragment (trusted, not escaped).

    Examples
    --------
    >>> from bayesreg.report import Section
    >>> Section("Data", "<p>442 rows</p>")
    Section(title='Data', html='<p>442 rows</p>')
    """

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
.gate { border: 2px solid #cf222e; background: #ffebe9; padding: 0.6em 1em; margin: 1em 0; }
.gate h2 { border: none; margin: 0 0 0.3em 0; color: #cf222e; }
"""


def render(
    sections: Iterable[Section], *, title: str = "bayesreg report", subtitle: str = "", banner: str = ""
) -> str:
    """One self-contained HTML page of ``sections`` (in order), with a table of contents.

    Parameters
    ----------
    sections : iterable of Section
    title : str
        Page title (escaped).
    subtitle : str
        HTML fragment shown under the title.
    banner : str
        HTML fragment shown above everything else under the title (e.g. `gate_banner`).

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> from bayesreg.report import Section, render
    >>> page = render([Section("Data", "<p>442 rows</p>")], title="A & B")
    >>> page.startswith("<!DOCTYPE html>"), "<title>A &amp; B</title>" in page, '<h2>1. Data</h2>' in page
    (True, True, True)
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
        f"<h1>{html.escape(title)}</h1>\n{banner}{subtitle}\n<ol>{toc}</ol>\n{body}</body>\n</html>\n"
    )


def gate_banner(problems: Iterable[str], *, flags: dict | None = None) -> str:
    """The banner at the top of a report whose NUTS runs failed the diagnostics gate; "" when none did.

    Parameters
    ----------
    problems : iterable of str
        What failed, each a `~bayesreg.diagnostics.Problem` (or plain text), as
        `~bayesreg.diagnostics.check_diagnostics` and `~bayesreg.diagnostics.check_path_diagnostics`
        list them; an empty iterable means every run passed.
    flags : dict, optional
        The option of each setting (``{"num_warmup": "--num-warmup"}``) to name the remedies by
        (`~bayesreg.diagnostics.Problem.describe`); by default their Python names.

    Returns
    -------
    str
        An HTML fragment (escaped): what failed and what to try.

    Examples
    --------
    >>> from bayesreg.diagnostics import Problem, Remedy
    >>> from bayesreg.report import gate_banner
    >>> gate_banner([])
    ''
    >>> banner = gate_banner([Problem("ESS as low as 40 (< 400)", [Remedy("num_samples")])])
    >>> "Diagnostics failed" in banner, "ESS as low as 40 (&lt; 400); try: raise num_samples" in banner
    (True, True)
    """
    from bayesreg.diagnostics import Problem

    texts = [p.describe(flags) if isinstance(p, Problem) else str(p) for p in problems]
    if not texts:
        return ""
    listed = "".join(f"<li>{html.escape(t)}</li>" for t in dict.fromkeys(texts))
    return (
        '<div class="gate" role="alert"><h2>Diagnostics failed: these posterior results are not to '
        "be trusted</h2>\n<p>At least one NUTS run crossed a threshold of the diagnostics gate (R-hat "
        f"&gt; {THRESHOLDS.rhat_max:g}, ESS &lt; {THRESHOLDS.ess_min:.0f}, divergences, E-BFMI &lt; "
        f"{THRESHOLDS.ebfmi_min:g}). What failed, and what to try:</p>\n<ul>{listed}</ul></div>\n"
    )


def figure_html(fig, alt: str, *, dpi: int = 110) -> str:
    """An ``<img>`` tag holding ``fig`` (a matplotlib Figure) as a base64 PNG data URI.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from bayesreg.report import figure_html
    >>> fig = Figure(figsize=(2, 1))
    >>> _ = fig.subplots().plot([0, 1], [1, 0])
    >>> figure_html(fig, alt="a line")[:42]
    '<img src="data:image/png;base64,iVBORw0KGg'
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.1)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def table_html(frame: pd.DataFrame, formatters: dict | None = None, *, index: bool = True) -> str:
    """An HTML table of ``frame``; ``formatters`` maps a column to ``value -> (text, css class)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from bayesreg.report import table_html
    >>> frame = pd.DataFrame({"coef": [0.0, 1.5]}, index=pd.Index(["a", "b"], name="feature"))
    >>> zero = lambda v: ("0 (exact)", "zero") if v == 0 else (f"{v:g}", "")
    >>> print(table_html(frame, {"coef": zero}))
    <table>
    <thead><tr><th>feature</th><th>coef</th></tr></thead>
    <tbody>
    <tr><td>a</td><td class="zero">0 (exact)</td></tr>
    <tr><td>b</td><td>1.5</td></tr>
    </tbody>
    </table>
    """
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
    """A ``matplotlib.figure.Figure`` with `bayesreg.plots.plot_path` of ``path`` (no pyplot).

    Parameters
    ----------
    path : MAPPath or PosteriorPath
    names : sequence of str, optional
        Feature names for the legend.
    width, height : float
        Size in inches.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg import alpha_grid, map_path
    >>> from bayesreg.report import path_figure
    >>> X = np.random.default_rng(0).normal(size=(30, 3))
    >>> y = X @ [1.0, 0.0, -2.0] + np.random.default_rng(1).normal(size=30)
    >>> fig = path_figure(map_path(X, y, alpha_grid(X, y, n_alphas=10)), names=["a", "b", "c"])
    >>> len(fig.axes)
    1
    """
    from bayesreg.plots import plot_path

    fig = _figure(width, height)
    plot_path(path, names=names, ax=fig.subplots())
    return fig


def _verdict(ok: bool, yes: str = "yes", no: str = "no") -> str:
    return f'<span class="ok">{yes}</span>' if ok else f'<span class="bad">{no}</span>'


def demo_sections(result: DemoResult) -> list[Section]:
    """The sections of the demo report, rendered from ``result`` (`bayesreg.demo.run_demo`).

    Idea, coefficients, sparsity, geometry; with a posterior also its diagnostics, the MAP against
    the posterior, prior against posterior and predictive coverage; with a path the MAP path and the
    posterior path; then the learned α, the comparison of priors and the sparse answers where
    computed; then how it was made.

    Examples
    --------
    >>> from bayesreg.demo import run_demo
    >>> from bayesreg.report import demo_sections
    >>> for section in demo_sections(run_demo(posterior=False, path=False)):
    ...     print(section.title)
    A penalty is a prior
    Coefficients: bayesreg MAP against scikit-learn
    Sparsity: which coefficients are exactly zero
    Geometry of the L1 and L2 penalties (the seeds' figures 7-1-1a, 7-1-2a)
    How this report was made
    """
    sections = [
        _idea_section(result),
        _coefficient_section(result),
        _sparsity_section(result),
        _geometry_section(result.geometry),
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
    if result.learned is not None:
        sections.append(_learned_section(result.learned))
    if result.comparison is not None:
        sections.append(_comparison_section(result.comparison))
    if result.selection is not None:
        sections.append(_selection_section(result.selection))
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
    rtol, atol = (np.format_float_scientific(t, trim="-", exp_digits=1) for t in (MAP_RTOL, MAP_ATOL))
    criterion = f"within {rtol}·|scikit-learn's| + {atol} of scikit-learn's"

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
b = σ²/(nα) = {r.sigma_l1:.4g}² / ({r.n_samples} × {r.lasso_alpha:g}) = {r.laplace_scale:.4g}
(σ = {r.sigma_l1:.4g}, its MAP).
max |Δcoef| = <b>{r.max_delta_l1:.1e}</b> (weights and intercept); each coefficient and the
intercept {criterion}: {_verdict(r.within_l1)}; identical sets of exact zeros:
{_verdict(r.same_zeros_l1)}.</p>
<p><b>L2:</b> Ridge α = {r.ridge_alpha:g} ↔ Gaussian prior with sd
σ/√α = {r.sigma_l2:.4g} / √{r.ridge_alpha:g} = {r.gaussian_sd:.4g} (σ = {r.sigma_l2:.4g}, its MAP).
max |Δcoef| = <b>{r.max_delta_l2:.1e}</b>; each coefficient and the intercept {criterion}:
{_verdict(r.within_l2)}; identical sets of exact zeros: {_verdict(r.same_zeros_l2)}.</p>
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


def _geometry_section(g: GeometryDemo) -> Section:
    from bayesreg.plots import plot_penalty_geometry

    fig = _figure(10.5, 5.6)
    left, right = fig.subplots(1, 2)
    plot_penalty_geometry(g.X, g.y, g.alpha, kind="gaussian", ax=left)
    plot_penalty_geometry(g.X, g.y, g.alpha, kind="laplace", ax=right)
    w_l2, w_l1, closed = g.map_l2, g.map_l1, g.closed_form_l2
    body = f"""
<p>A 2-feature problem ({g.X.shape[0]} rows, correlated features, centred, no intercept, σ = 1) with
the book convention: J̃(w) = J(w) + (α/2)‖w‖² (Gaussian prior, sd 1/√α) and J̃(w) = J(w) + α‖w‖₁
(Laplace prior, scale 1/α), α = {g.alpha:g}, J(w) = ‖y − Xw‖²/2. Ellipses: contours of J around the
least-squares w*; the dark one passes through the regularised optimum w̃, where it touches the
penalty's contour (circle for L2, diamond for L1). w̃ is the MAP computed by
<code>bayesreg.map_estimate</code>, not drawn by hand.</p>
{figure_html(fig, "contours of J with the L2 circle and the L1 diamond through the MAP")}
<p>L2: w̃ = ({w_l2[0]:.6f}, {w_l2[1]:.6f}); the seeds' closed form (H + αI)⁻¹Hw* =
({closed[0]:.6f}, {closed[1]:.6f}), max difference {np.abs(w_l2 - closed).max():.1e}.
L1: w̃ = ({_num(w_l1[0])}, {_num(w_l1[1])}): the diamond's corner on the axis touches the contour
first, so w̃₂ is exactly 0 although w*₂ = {g.w_star[1]:.3f}.</p>
"""
    return Section("Geometry of the L1 and L2 penalties (the seeds' figures 7-1-1a, 7-1-2a)", body)


def _num(v: float) -> str:
    return "0 (exact)" if v == 0 else f"{v:.6f}"


def _names(table: pd.DataFrame, mask) -> str:
    names = [str(n) for n in table.index[np.asarray(mask, dtype=bool)]]
    return ", ".join(names) if names else "none"


def sparsity_sentence(table: pd.DataFrame, counts: dict) -> str:
    """The demo's sentence on exact zeros, in numbers.

    Parameters
    ----------
    table : DataFrame
        `bayesreg.compare.compare_map_posterior`'s table (the names of the features in each count).
    counts : dict
        `bayesreg.compare.sparsity_summary` of ``table`` (every number of the sentence).

    Returns
    -------
    str

    Examples
    --------
    >>> import arviz as az, numpy as np
    >>> from bayesreg.compare import compare_map_posterior, sparsity_summary
    >>> from bayesreg.report import sparsity_sentence
    >>> draws = np.random.default_rng(0).normal([0.05, 1.0], 0.2, size=(2, 200, 2))
    >>> idata = az.from_dict(posterior={"coef": draws}, coords={"feature": ["a", "b"]},
    ...                      dims={"coef": ["feature"]})
    >>> table = compare_map_posterior(idata, map_coef=[0.0, 0.9])
    >>> print(sparsity_sentence(table, sparsity_summary(table)))
    The Laplace MAP has 1 exact zeros (a); the posterior mean has 0 and the posterior median 0;
    1 of 2 94% HDIs contain 0 (a). Every MAP zero has an HDI that contains 0.
    """
    c = counts
    prob = table.attrs["hdi_prob"]
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
    """(name, value, threshold, within it) per diagnostic of a `DiagnosticsReport`, against
    `bayesreg.defaults.THRESHOLDS` (those `bayesreg.diagnostics.check_diagnostics` warns at)."""
    rhat, ess, ebfmi = THRESHOLDS.rhat_max, THRESHOLDS.ess_min, THRESHOLDS.ebfmi_min
    return [
        ("max rank-normalised R-hat", f"{report.max_rhat:.4f}", f"≤ {rhat:g}", report.max_rhat <= rhat),
        ("min bulk ESS", f"{report.min_ess_bulk:.0f}", f"≥ {ess:.0f}", report.min_ess_bulk >= ess),
        ("min tail ESS", f"{report.min_ess_tail:.0f}", f"≥ {ess:.0f}", report.min_ess_tail >= ess),
        ("divergent transitions", f"{report.divergences}", "0", report.divergences == 0),
        ("min E-BFMI", f"{report.min_ebfmi:.2f}", f"≥ {ebfmi:g}", report.min_ebfmi >= ebfmi),
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
<p><b>{html.escape(sparsity_sentence(t, p.sparsity))}</b></p>
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

    sds = p.table["sd"]
    fig = _panel_figure(len(sds))
    plot_prior_vs_posterior(p.idata, p.prior, axes=fig.axes)
    body = f"""
<p>Dashed: the Laplace prior of each weight, Laplace(0, b) with b = σ²/(nα); it is conditional on the
noise sd σ, which is unknown, so it is drawn at σ = {p.prior_sigma:.4g}, the posterior median
(b = {p.prior_scale:.4g}, prior sd √2·b = {p.prior_sd:.4g}). Solid: the posterior. Its sds run from
{sds.min():.3g} ({html.escape(str(sds.idxmin()))}) to {sds.max():.3g}
({html.escape(str(sds.idxmax()))}): the {len(p.y)} rows make {p.narrower_than_prior} of the
{len(sds)} weights narrower than the prior.</p>
{figure_html(fig, "prior density against posterior density, per coefficient")}
"""
    return Section("Prior against posterior", body)


def _predictive_section(p: PosteriorDemo) -> Section:
    from bayesreg.plots import plot_ppc

    n_test, n = len(p.y_test), len(p.y)
    prob, seed, se, skew = p.coverage_prob, p.settings["seed"], p.coverage_se, p.skewness
    fig = _figure(13.0, 4.6)
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.4])
    plot_ppc(p.idata, X=p.X, y=p.y, kind="density", seed=seed, ax=left)
    left.set_title(f"all {n} rows: observed y against replicated data sets", fontsize=9)
    plot_ppc(p.idata_train, X=p.X_test, y=p.y_test, kind="intervals", prob=prob, seed=seed, ax=right)
    within = abs(p.coverage - prob) <= 2 * se
    reproduces = "does not reproduce" if min(skew.p_value, 1 - skew.p_value) < 0.025 else "reproduces"
    body = f"""
<p><b>Held-out coverage:</b> fitted to {n - n_test} rows, the {prob:.0%} central posterior predictive
intervals cover <b>{p.coverage:.1%}</b> of the other {n_test} targets (nominal {prob:.0%}; a
calibrated model covers {prob:.0%} ± {2 * se:.1%}, two binomial standard errors, of {n_test} rows:
{_verdict(within, "within", "outside")}). Each predictive draw is intercept + x·coef + σε with one
posterior draw of (coef, intercept, σ) (<code>bayesreg.compare.predictive_coverage</code>, seed
{seed}).</p>
<p>Left: the density of the observed targets against data sets replicated from the posterior
predictive at the same rows. The skewness of the observed y is {skew.observed:.2f}, that of the
{skew.n_replicated} replicated data sets {skew.replicated_mean:.2f} ± {skew.replicated_sd:.2f}
(P(replicated ≥ observed) = {skew.p_value:.3f}): the Gaussian likelihood {reproduces} the observed skew.
Right: the held-out intervals, sorted by predictive median; red dots fall outside.</p>
{figure_html(fig, "posterior predictive check in sample and on held-out rows")}
"""
    return Section("Posterior predictive check and held-out coverage", body)


def path_sentence(path, names) -> str:
    """The demo's sentence on the posterior path, in numbers, from a `bayesreg.PosteriorPath`.

    It picks the grid point with the most exact zeros of the MAP short of all of them (the strongest
    penalty that keeps some weight) and gives the widths of the posterior HDIs of the zeroed weights
    there; then the counts over the whole grid.

    Parameters
    ----------
    path : PosteriorPath
        Its ``alphas``, ``map.coefs``, ``median``, ``hdi_low``, ``hdi_high`` and ``hdi_prob`` are read.
    names : sequence of str
        Feature names.

    Returns
    -------
    str

    Examples
    --------
    Two α and two weights, with the fields a `bayesreg.PosteriorPath` has:

    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> from bayesreg.report import path_sentence
    >>> path = SimpleNamespace(alphas=np.array([1.0, 0.1]), hdi_prob=0.94,
    ...                        map=SimpleNamespace(coefs=np.array([[0.0, 0.5], [0.2, 0.9]])),
    ...                        median=np.array([[0.1, 0.4], [0.2, 0.8]]),
    ...                        hdi_low=np.array([[-0.3, 0.1], [-0.1, 0.5]]),
    ...                        hdi_high=np.array([[0.4, 0.8], [0.5, 1.2]]))
    >>> print(path_sentence(path, ["a", "b"]))
    At α = 1 the MAP has 1 of 2 coefficients exactly 0 (a), while the 94% HDIs of those 1 still have
    widths from 0.7 to 0.7 (median 0.7). Over the 2 α of the grid the MAP is exactly 0 in 1 of 4
    (α, coefficient) pairs, the posterior median in 0.
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


def _fixed(digits: int):
    return lambda value: (f"{value:.{digits}f}", "")


def _passed(ok):
    return ("yes", "") if ok else ("no", "bad")


def _alpha(value):
    if isinstance(value, str):
        return value, ""
    return ("—", "") if not np.isfinite(value) else (f"{value:.4g}", "")


def _learned_section(d: LearnedAlphaDemo) -> Section:
    t = d.table

    def with_interval(kind):
        if f"{kind}_low" not in t:
            return t[kind]
        return [
            _alpha_text(value, low, high)
            for value, low, high in zip(t[kind], t[f"{kind}_low"], t[f"{kind}_high"], strict=True)
        ]

    shown = pd.DataFrame(
        {
            "Laplace α (bayesreg)": with_interval("laplace"),
            "Lasso's (scikit-learn)": t["laplace_reference"],
            "Monte Carlo s.e.": t["laplace_mcse"],
            "non-zero weights (MAP)": t["laplace_nonzero"],
            "Gaussian α (bayesreg)": with_interval("gaussian"),
            "Ridge's (scikit-learn)": t["gaussian_reference"],
        },
        index=t.index,
    )
    labels = {
        "fixed": "fixed (the demo's)",
        "cv": 'alpha="cv" (LassoCV, RidgeCV)',
        "eb": 'alpha="eb" (evidence)',
    }
    if d.posteriors is not None:
        labels["hierarchical"] = (
            f"full Bayes (posterior median [{d.posteriors['laplace'].prob:.0%} interval])"
        )
    shown.index = pd.Index([labels[how] for how in t.index], name="α")
    cv_same = bool(np.isclose(t.loc["cv", "laplace"], t.loc["cv", "laplace_reference"], rtol=1e-9, atol=0))
    eb_same = bool(np.isclose(t.loc["eb", "gaussian"], t.loc["eb", "gaussian_reference"], rtol=1e-6, atol=0))
    fixed, cv, eb = (t.loc[how, "laplace"] for how in ("fixed", "cv", "eb"))
    mcse = t.loc["eb", "laplace_mcse"]
    body = f"""
<p>The demo's α is a number chosen by hand. <code>alpha="cv"</code> picks it by 5-fold
cross-validation on scikit-learn's folds and grid: for the Laplace prior α = <b>{cv:.4g}</b>
({t.loc["cv", "laplace_nonzero"]} of {d.n_features} weights non-zero),
{fixed / cv:.3g} times below the fixed {fixed:g}; the same as <code>LassoCV().alpha_</code>:
{_verdict(cv_same)}. <code>alpha="eb"</code> maximises the marginal likelihood (empirical Bayes):
for the Laplace prior by Monte Carlo EM (seed {d.seed}), α = <b>{eb:.4g}</b> ± {mcse:.1g};
for the Gaussian prior by <code>BayesianRidge</code>'s evidence iteration, α = λ/α<sub>noise</sub> =
<b>{t.loc["eb", "gaussian"]:.4g}</b> (the same as scikit-learn's: {_verdict(eb_same)}). Cross-validation
judges the MAP's predictions, the evidence the prior's fit to the data as a whole, so the two need
not agree.</p>
{_full_bayes_text(d) if d.posteriors is not None else ""}
{table_html(shown, {c: _alpha for c in shown.columns if c != "non-zero weights (MAP)"})}
"""
    return Section("α learned from the data", body)


def _alpha_text(value: float, low: float, high: float) -> float | str:
    """An α, with its interval when it has one: ``0.0123 [0.005, 0.03]``."""
    if not np.isfinite(low):
        return float(value)
    return f"{value:.4g} [{low:.4g}, {high:.4g}]"


def _full_bayes_text(d: LearnedAlphaDemo) -> str:
    """The paragraph on the hierarchical fits: the α interval of each next to LassoCV's / RidgeCV's."""
    t, s = d.table, d.settings
    laplace, gaussian = d.posteriors["laplace"], d.posteriors["gaussian"]
    failed = [kind.capitalize() for kind, fit in d.fits.items() if not fit.diagnostics.ok]
    gate = (
        f'<span class="bad">The hierarchical {" and ".join(failed)} '
        f"{'fits' if len(failed) > 1 else 'fit'} failed the diagnostics gate</span>: read "
        f"{'their intervals' if len(failed) > 1 else 'its interval'} as indicative only."
        if failed
        else '<span class="ok">Both fits passed the diagnostics gate.</span>'
    )
    return f"""
<p><b>Full Bayes</b> puts a prior on the penalty's scale and samples it with the weights
(<code>bayesreg.hierarchical</code>, σ with the estimators' prior <code>noise_prior(y)</code>, a flat
intercept; NUTS, {s["num_chains"]} chains × ({s["num_warmup"]} warmup + {s["num_samples"]} draws),
seed {s["seed"]}). Under the Bayesian lasso ({html.escape(d.priors["laplace"].describe())}),
<b>{html.escape(laplace.describe())}; LassoCV picked {t.loc["cv", "laplace_reference"]:.4g}</b>.
Under the hierarchical ridge ({html.escape(d.priors["gaussian"].describe())}),
<b>{html.escape(gaussian.describe())}; RidgeCV picked {t.loc["cv", "gaussian_reference"]:.4g}</b>.
Each draw of λ² (or τ) and σ is one α in scikit-learn's convention
(<code>alpha_posterior</code>); the Laplace MAP at the posterior median has
{t.loc["hierarchical", "laplace_nonzero"]} of {d.n_features} weights non-zero. {gate}</p>
"""


def _comparison_section(d: ComparisonDemo) -> Section:
    from bayesreg.prior_comparison import plot_compare

    t = d.comparison.table
    best = t.index[0]
    close = [name for name, row in t.iloc[1:].iterrows() if row["elpd_diff"] <= 2 * row["dse"]]
    kfold = t.index[t["elpd_method"] != "psis-loo"].tolist()
    failed = t.index[~t["diagnostics_ok"].astype(bool)].tolist()
    ties = (
        f"within 2 standard errors of it (not distinguishable by these data): {', '.join(close)}."
        if close
        else "every other prior is more than 2 standard errors of the difference behind it."
    )
    how = (
        f"K-fold cross-validation replaced PSIS-LOO for {', '.join(kfold)}, whose Pareto k̂ exceeded "
        "ArviZ's threshold (one refit per fold)."
        if kfold
        else "Every Pareto k̂ stayed below ArviZ's threshold: PSIS-LOO is reliable for every row."
    )
    gate = (
        f'<span class="bad">These fits failed the diagnostics gate</span>: {", ".join(failed)}; '
        "their rows are marked, and their numbers are not to be trusted."
        if failed
        else '<span class="ok">Every fit passed the diagnostics gate.</span>'
    )
    shown = t[
        [
            "rank",
            "elpd_loo",
            "se",
            "elpd_diff",
            "dse",
            "p_loo",
            "weight",
            "elpd_method",
            "pareto_k_high",
            "pareto_k_max",
            "diagnostics_ok",
        ]
    ].copy()
    shown.index.name = "prior"
    formats = {
        column: _fixed(2) for column in ("elpd_loo", "se", "elpd_diff", "dse", "p_loo", "pareto_k_max")
    }
    formats.update(weight=_fixed(3), diagnostics_ok=_passed)
    fig = _figure(8.0, 0.5 + 0.55 * len(t))
    plot_compare(t, ax=fig.subplots())
    s = d.settings
    penalties = ""
    if d.sparsity_priors is not None:
        from bayesreg.plots import plot_prior_penalties

        penalty_fig = _figure(7.5, 4.6)
        plot_prior_penalties(d.sparsity_priors, num_features=d.n_features, ax=penalty_fig.subplots())
        listed = ", ".join(html.escape(name) for name in d.sparsity_priors)
        penalties = f"""
<p><b>The penalty a sparsity prior implies.</b> Below, the marginal −log prior of one weight
(every scale integrated out; p = {d.n_features}, in units of σ) of {listed}, beside the L1 and L2
penalties, each relative to its value at |θ| = 1 (<code>bayesreg.plots.plot_prior_penalties</code>).
Their curves fall to −∞ at 0: the densities are unbounded there, so these priors have no MAP and
no penalised estimate to compare with scikit-learn (the fits are NUTS only). Away from 0 they grow
only logarithmically (the regularised horseshoe quadratically beyond its slab), where L1 grows
linearly: small weights are pulled hard to 0, large ones are left nearly alone.</p>
{figure_html(penalty_fig, "the penalty of each sparsity prior beside the L1 and L2 penalties")}
"""
    body = f"""
<p>Each prior is fitted with NUTS ({s["num_chains"]} chains × ({s["num_warmup"]} warmup +
{s["num_samples"]} draws), seed {s["seed"]}) and scored by its expected log predictive density
for a new row (elpd, by Pareto-smoothed importance sampling leave-one-out), ranked by ArviZ's
<code>compare</code> (<code>bayesreg.prior_comparison.compare_priors</code>; the sparsity priors
on standardised columns, which their default scales assume, the others on the columns as above).
<b>{html.escape(str(best))}</b>
predicts best; {html.escape(ties)} {html.escape(how)} {gate}</p>
{table_html(shown, formats)}
{figure_html(fig, "elpd of each prior with its standard error, and its difference to the best")}
<p class="note">elpd_diff and dse: the difference to the best prior and its standard error; weight:
stacking weights; p_loo: effective number of parameters; pareto_k_high: observations whose k̂
exceeds the threshold.</p>
{penalties}"""
    return Section("Which prior predicts best", body)


def _selection_figure(projection):
    """The projection's elpd difference to the reference by submodel size, ± one standard error,
    with the suggested size marked and each size labelled by the feature it adds."""
    t = projection.table
    fig = _figure(8.0, 4.2)
    ax = fig.subplots()
    ax.axhline(0.0, color="0.3", linewidth=0.8, linestyle="--", label="reference model")
    ax.errorbar(t.index, t["elpd_diff"], yerr=t["diff_se"], fmt="o-", capsize=3, label="submodel ± 1 se")
    if projection.suggested_size is not None:
        k = projection.suggested_size
        ax.plot(
            [k],
            [t.loc[k, "elpd_diff"]],
            "s",
            color="C3",
            markersize=10,
            fillstyle="none",
            label=f"suggested size {k}",
        )
    ax.set_xticks(
        t.index,
        [f"{k}\n{name or '(intercept)'}" for k, name in zip(t.index, t["feature"], strict=True)],
        fontsize=7,
    )
    ax.set_xlabel("submodel size (the feature it adds)")
    ax.set_ylabel("elpd difference to the reference (LOO)")
    ax.set_title("projection predictive selection: elpd by submodel size", fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    return fig


def _selection_section(d: SelectionDemo) -> Section:
    proj, t = d.projection, d.table
    methods = {
        "projection": "projection (suggested size)",
        "interval": "HDI excludes 0",
        "dss": "DSS",
        "lasso_cv": "LassoCV ≠ 0",
    }
    shown = t[["posterior_mean", "search_rank", *methods]].rename(
        columns={**methods, "posterior_mean": "posterior mean", "search_rank": "search rank"}
    )
    formats = {label: _flag for label in methods.values()}
    formats["posterior mean"] = _fixed(2)
    counts = {label: int(t[column].sum()) for column, label in methods.items()}
    size = proj.suggested_size
    suggested = (
        f"suggests size <b>{size}</b> ({html.escape(', '.join(proj.selected)) or 'intercept only'})"
        if size is not None
        else '<span class="bad">suggests no size</span> (no submodel comes within one standard error '
        "of the reference)"
    )
    agree = [str(name) for name in t.index[t[list(methods)].all(axis=1)]]
    picked = "; ".join(f"{html.escape(label)}: {n}" for label, n in counts.items())
    body = f"""
<p>The posterior keeps every feature; a short list has to be chosen from it. The Laplace posterior
above is the reference model, and <code>bayesreg.selection.selection_table</code> sets four answers
side by side. <b>Projection predictive selection</b> (Piironen, Paasiniemi &amp; Vehtari 2020, as
projpred): the L1 path on the posterior-mean fit orders the features
({html.escape(", ".join(proj.order))}); each submodel of the first k is the projection of
{proj.num_draws} posterior draws onto them, scored by PSIS-LOO with the reference's weights; the
rule (the smallest k whose elpd is within one standard error of the reference's,
{proj.reference_elpd:.1f} ± {proj.reference_se:.1f}) {suggested}. <b>Interval exclusion</b>: the
features whose {d.hdi_prob:.0%} HDI excludes 0. <b>DSS</b> (decoupled shrinkage and selection, Hahn
&amp; Carvalho 2015): the adaptive lasso of the posterior-mean fit. <b>LassoCV</b>: scikit-learn's
cross-validated lasso on standardised columns, the answer without a posterior.</p>
<p>Features picked: {picked}; by all four: {html.escape(", ".join(agree)) or "none"}.</p>
{table_html(shown, formats)}
{figure_html(_selection_figure(proj), "elpd difference to the reference by submodel size")}
<p class="note">The search is not cross-validated, so the submodels' elpd is somewhat optimistic
(projpred's <code>validate_search = FALSE</code>), most just below the suggested size; at the full
size the projection is the reference itself.</p>
"""
    return Section("A sparse answer from the posterior", body)


def _call(options: dict) -> str:
    """Keyword arguments as written in a call, escaped for HTML: ``tol=1e-12, max_iter=100000``."""
    return html.escape(", ".join(f"{name}={value!r}" for name, value in options.items()), quote=False)


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
            f"repeat it. The held-out rows are <code>train_test_split({_call(SPLIT_OPTIONS)})</code>.</p>"
        )
    body = f"""
<p>Made by <code>bayesreg demo --out DIR</code> (<code>make demo</code> writes
<code>out/demo/</code>), which also writes <code>coefficients.csv</code> with the four columns of the
MAP table. scikit-learn was run with <code>Lasso({_call(LASSO_OPTIONS)})</code> and
<code>Ridge({_call(RIDGE_OPTIONS)})</code>; bayesreg in float64.</p>
{posterior}
<p class="note">Versions: {listed}.</p>
"""
    return Section("How this report was made", body)


def _failed_problems(result: DemoResult) -> list[str]:
    """The problems of the demo's NUTS runs that failed the gate (none when every run passed)."""
    from bayesreg.diagnostics import check_path_diagnostics

    problems = []
    if result.posterior is not None:
        for report in (result.posterior.diagnostics, result.posterior.diagnostics_train):
            if not report.ok:
                problems += report.problems
    if result.path is not None:
        found = check_path_diagnostics(result.path.posterior, warn=False)
        if not found.ok.all():
            problems += found.problems
    if result.comparison is not None:
        for fitted in result.comparison.comparison.fits.values():
            report = getattr(fitted, "diagnostics_", None) or getattr(fitted, "diagnostics", None)
            problems += report.problems
    if result.learned is not None and result.learned.fits is not None:
        for fit in result.learned.fits.values():
            problems += fit.diagnostics.problems
    return problems


def demo_report(result: DemoResult, *, flags: dict | None = None) -> str:
    """The demo report as one HTML page, rendered from ``result`` (`bayesreg.demo.run_demo`).

    When a NUTS run failed the diagnostics gate, a banner at the top says what failed and what to
    try (`gate_banner`, naming the settings by ``flags``, e.g. the command's options).

    Examples
    --------
    The MAP part alone (no NUTS):

    >>> from bayesreg.demo import run_demo
    >>> from bayesreg.report import demo_report
    >>> page = demo_report(run_demo(posterior=False, path=False))
    >>> page.startswith("<!DOCTYPE html>"), page.count("data:image/png;base64,")
    (True, 3)
    """
    sections = demo_sections(result)
    subtitle = (
        '<p class="note">L1 and L2 penalised regression as MAP estimates under Laplace and Gaussian '
        "priors, checked against scikit-learn"
        + ("; then the whole Laplace posterior against its MAP." if result.posterior else ".")
        + "</p>"
    )
    return render(
        sections,
        title="bayesreg demo: a penalty is a prior",
        subtitle=subtitle,
        banner=gate_banner(_failed_problems(result), flags=flags),
    )
