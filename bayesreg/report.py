"""A self-contained HTML report: sections of HTML, figures embedded as PNG data URIs.

A report is a list of `Section` objects (a title and an HTML fragment) that `render` turns into one
HTML page with no external files, scripts or fonts. `demo_sections` builds the sections of
``bayesreg demo``: the MAP under a Laplace / Gaussian prior against scikit-learn's Lasso / Ridge on
the diabetes data, which coefficients are exactly zero, and the seeds' L1/L2 geometry. Later parts
(the posterior) add sections to the same list.

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
    "demo_report",
    "demo_sections",
    "geometry_example",
    "run_demo",
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


# ---------------------------------------------------------------------------------------------------
# the demo: diabetes, L1 and L2 MAP against scikit-learn


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


def run_demo(*, lasso_alpha: float = 0.1, ridge_alpha: float = 0.1) -> DemoResult:
    """Fit L1 and L2 MAP on scikit-learn's diabetes data and the matching Lasso and Ridge.

    scikit-learn is run to tight tolerances (Lasso ``tol=1e-12``, Ridge by Cholesky), so the
    differences measure bayesreg's error, not scikit-learn's.
    """
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Lasso, Ridge

    from bayesreg.estimators import BayesianLinearRegression

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    l1 = BayesianLinearRegression(prior="laplace", alpha=lasso_alpha).fit(X, y)
    l2 = BayesianLinearRegression(prior="gaussian", alpha=ridge_alpha).fit(X, y)
    lasso = Lasso(alpha=lasso_alpha, tol=1e-12, max_iter=100_000).fit(X, y)
    ridge = Ridge(alpha=ridge_alpha, solver="cholesky").fit(X, y)

    def column(est):
        # + 0.0 turns -0.0 (which scikit-learn's coordinate descent leaves) into 0.0
        return np.append(np.asarray(est.coef_, dtype=float), float(est.intercept_)) + 0.0

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
    """The sections of the demo report: idea, coefficients, sparsity, geometry, how it was made."""
    return [
        _idea_section(result),
        _coefficient_section(result),
        _sparsity_section(result),
        _geometry_section(),
        _provenance_section(),
    ]


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


def _provenance_section() -> Section:
    from importlib.metadata import PackageNotFoundError, version

    def v(name):
        try:
            return version(name)
        except PackageNotFoundError:  # pragma: no cover - all are dependencies
            return "not installed"

    packages = ["bayesreg", "numpyro", "jax", "scikit-learn", "numpy", "matplotlib"]
    listed = ", ".join(f"{name} {html.escape(v(name))}" for name in packages)
    body = f"""
<p>Made by <code>bayesreg demo --out DIR</code> (<code>make demo</code> writes
<code>out/demo/</code>), which also writes <code>coefficients.csv</code> with the four columns of the
table above. scikit-learn was run with <code>Lasso(tol=1e-12, max_iter=100000)</code> and
<code>Ridge(solver="cholesky")</code>; bayesreg in float64.</p>
<p class="note">Versions: {listed}.</p>
"""
    return Section("How this report was made", body)


def demo_report(result: DemoResult | None = None) -> str:
    """The demo report as one HTML page (runs `run_demo` when ``result`` is not given)."""
    result = run_demo() if result is None else result
    sections = demo_sections(result)
    subtitle = (
        '<p class="note">L1 and L2 penalised regression as MAP estimates under Laplace and Gaussian '
        "priors, checked against scikit-learn.</p>"
    )
    return render(sections, title="bayesreg demo: a penalty is a prior", subtitle=subtitle)
