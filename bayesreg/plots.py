"""Pictures of what a penalty (a prior) does to the coefficients, and of what the MAP leaves out.

Single-panel functions draw on ``ax`` when one is given (the current Axes of pyplot otherwise) and
return the Axes; the per-coefficient ones (`plot_posterior_vs_map`, `plot_prior_vs_posterior`) draw
one panel per coefficient on ``axes`` (a new pyplot figure otherwise) and return the array of Axes
used. Only this module (and `bayesreg.report`, through it) imports matplotlib, and it never changes
the backend: `bayesreg.report` draws on ``matplotlib.figure.Figure`` objects directly.

Artists that carry a number are tagged with a ``gid`` (``"map"``, ``"mean"``, ``"hdi"``,
``"prior"``, ``"posterior"``, ``"observed"`` ...), so what a figure shows can be read back from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from bayesreg.defaults import HDI_PROB

__all__ = [
    # the MAP (penalised estimate)
    "plot_coefficients",
    "plot_path",
    "plot_penalty_geometry",
    "plot_prior_penalties",
    "plot_sparsity",
    # the posterior against the MAP
    "plot_forest_map",
    "plot_posterior_vs_map",
    "plot_ppc",
    "plot_prior_vs_posterior",
]

# colours of the two estimates compared (colour-blind safe pair) and of exact zeros
_OURS, _THEIRS, _ZERO = "#1f77b4", "#ff7f0e", "#d9d9d9"


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    return ax


def _names(names, p: int) -> list[str]:
    if names is None:
        return [f"x{i}" for i in range(p)]
    names = [str(n) for n in names]
    if len(names) != p:
        raise ValueError(f"names has {len(names)} entries for {p} coefficients")
    return names


def _vector(name: str, value) -> np.ndarray:
    value = np.asarray(value, dtype=float)
    if value.ndim != 1:
        raise ValueError(f"{name} must be 1-d (n_features,), got shape {value.shape}")
    return value


def plot_coefficients(
    coef,
    reference,
    *,
    names: Sequence[str] | None = None,
    label: str = "bayesreg MAP",
    reference_label: str = "scikit-learn",
    ax=None,
):
    """Two estimates of the same coefficients side by side, one pair of bars per feature.

    Exact zeros of ``coef`` are marked "exactly 0" at the axis, so equal sparsity patterns show.

    Parameters
    ----------
    coef : array_like, shape (n_features,)
        The bayesreg estimate (e.g. the MAP).
    reference : array_like, shape (n_features,)
        The estimate it is compared with (e.g. scikit-learn's Lasso).
    names : sequence of str, length n_features, optional
        Feature names (``x0, x1, ...`` otherwise).
    label, reference_label : str
        Legend entries of ``coef`` and ``reference``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from bayesreg.plots import plot_coefficients
    >>> fig, ax = plt.subplots()
    >>> ax = plot_coefficients([0.0, 1.5, -0.3], [0.0, 1.5, -0.3], names=["age", "bmi", "bp"], ax=ax)
    >>> [t.get_text() for t in ax.get_yticklabels()], [t.get_text() for t in ax.texts]
    (['age', 'bmi', 'bp'], ['exactly 0'])
    >>> plt.close(fig)
    """
    coef, reference = _vector("coef", coef), _vector("reference", reference)
    if coef.shape != reference.shape:
        raise ValueError(f"coef has shape {coef.shape} but reference has shape {reference.shape}")
    names = _names(names, coef.size)
    ax = _axes(ax)
    pos = np.arange(coef.size)
    height = 0.38
    ax.barh(pos - height / 2, coef, height, color=_OURS, label=label)
    ax.barh(pos + height / 2, reference, height, color=_THEIRS, label=reference_label)
    ax.axvline(0.0, color="black", linewidth=0.8)
    for i in np.flatnonzero(coef == 0):
        ax.annotate(
            "exactly 0",
            (0.0, pos[i]),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color="0.3",
        )
    ax.set_yticks(pos, names)
    ax.set_ylim(coef.size - 0.5, -0.5)  # first feature on top
    ax.set_xlabel("coefficient")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_sparsity(coefs: Mapping[str, object], *, names: Sequence[str] | None = None, ax=None):
    """Which coefficients are exactly zero under each estimate (e.g. L1 against L2).

    One row per estimate, one cell per feature: exact zeros are grey cells marked "0"; the other
    cells are coloured by sign (red positive, blue negative) with intensity ``|coef| / max|coef|``
    of their row.

    Parameters
    ----------
    coefs : mapping of str to array_like of shape (n_features,)
        Row label to coefficients, e.g. ``{"L1 (Laplace prior)": w1, "L2 (Gaussian prior)": w2}``.
    names : sequence of str, length n_features, optional
        Feature names (``x0, x1, ...`` otherwise).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from bayesreg.plots import plot_sparsity
    >>> fig, ax = plt.subplots()
    >>> ax = plot_sparsity({"L1": [0.0, 1.2, 0.0], "L2": [0.1, 1.0, -0.2]}, names=["a", "b", "c"], ax=ax)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['L1\\n2 of 3 exactly 0', 'L2\\n0 of 3 exactly 0']
    >>> plt.close(fig)
    """
    from matplotlib.colors import LinearSegmentedColormap

    if not coefs:
        raise ValueError("coefs is empty")
    rows = [_vector(f"coefs[{key!r}]", value) for key, value in coefs.items()]
    p = rows[0].size
    if any(r.size != p for r in rows):
        raise ValueError("every entry of coefs must have the same number of coefficients")
    names = _names(names, p)
    ax = _axes(ax)
    matrix = np.vstack(rows)
    scale = np.abs(matrix).max(axis=1, keepdims=True)
    shade = np.divide(matrix, scale, out=np.zeros_like(matrix), where=scale > 0)
    zero = matrix == 0
    image = np.ma.masked_where(zero, shade)
    cmap = LinearSegmentedColormap.from_list("sign", ["#2166ac", "#f7f7f7", "#b2182b"])
    cmap = cmap.with_extremes(bad=_ZERO)
    ax.imshow(image, cmap=cmap, vmin=-1.0, vmax=1.0, aspect="auto", interpolation="nearest")
    for (i, j), is_zero in np.ndenumerate(zero):
        if is_zero:
            ax.text(j, i, "0", ha="center", va="center", fontsize=10, fontweight="bold", color="0.25")
    ax.set_xticks(np.arange(p), names, rotation=45, ha="right")
    labels = [f"{key}\n{int(z.sum())} of {p} exactly 0" for key, z in zip(coefs, zero, strict=True)]
    ax.set_yticks(np.arange(len(rows)), labels)
    ax.set_xticks(np.arange(p + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(rows) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    return ax


def _map_without_intercept(Xc, yc, alpha, kind, sigma):
    from bayesreg.engine.map import map_estimate
    from bayesreg.models import SufficientStats, linear_regression_stats
    from bayesreg.priors import prior_from_penalty

    prior = prior_from_penalty(kind, alpha, convention="book")
    stats = SufficientStats.from_data(Xc, yc, center=False)
    result = map_estimate(linear_regression_stats, stats, prior=prior, sigma=sigma, fit_intercept=False)
    return np.asarray(result.params["coef"], dtype=float)


def plot_penalty_geometry(X, y, alpha, *, kind: str = "laplace", sigma: float = 1.0, ax=None):
    """The seeds' figures 7-1-1a / 7-1-2a for a real 2-feature problem.

    Draws contours of the unregularised objective ``J(w) = ‖y − Xw‖²/(2σ²)`` (on centred data, no
    intercept) around its minimum ``w*`` (least squares), the L2 circle or L1 diamond through the
    regularised optimum ``w̃``, and both points. ``w̃`` is not drawn by hand: it is the MAP that
    `bayesreg.map_estimate` finds under ``prior_from_penalty(kind, alpha, convention="book")``,
    i.e. the minimiser of ``J(w) + α‖w‖₁`` (Laplace prior, scale ``1/α``) or
    ``J(w) + (α/2)‖w‖²`` (Gaussian prior, sd ``1/√α``). The marker of ``w̃`` is the line with gid
    ``"w_tilde"`` (``"w_star"`` for ``w*``), so its coordinates can be read back from the Axes.

    Parameters
    ----------
    X : array_like, shape (n_samples, 2)
        Two features (centred here).
    y : array_like, shape (n_samples,)
        Target (centred here).
    alpha : float > 0
        Penalty strength in the book convention.
    kind : {"laplace", "gaussian"}
        L1 penalty (Laplace prior) or L2 penalty (Gaussian prior).
    sigma : float > 0
        Noise sd of the Gaussian likelihood.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    The L1 MAP sits on a corner of the diamond: its first coordinate is exactly 0.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from bayesreg.plots import plot_penalty_geometry
    >>> X, y = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 2.0]], [1.0, 2.0, 2.5, 3.0]
    >>> fig, ax = plt.subplots()
    >>> ax = plot_penalty_geometry(X, y, alpha=1.0, kind="laplace", ax=ax)
    >>> w_tilde = next(line for line in ax.lines if line.get_gid() == "w_tilde").get_xydata()[0]
    >>> bool(w_tilde[0] == 0), round(float(w_tilde[1]), 6)
    (True, 0.5)
    >>> plt.close(fig)
    """
    if kind not in ("laplace", "gaussian"):
        raise ValueError(f"unknown kind {kind!r}; expected 'laplace' or 'gaussian'")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2), got {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    w_star = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    H = Xc.T @ Xc / sigma**2
    w_tilde = _map_without_intercept(Xc, yc, alpha, kind, sigma)

    ax = _axes(ax)
    if kind == "gaussian":
        radius = float(np.linalg.norm(w_tilde))
        t = np.linspace(0.0, 2.0 * np.pi, 400)
        region = radius * np.column_stack([np.cos(t), np.sin(t)])
        region_label = f"‖w‖₂ = {radius:.3g} (Gaussian prior contour)"
        title = f"L2 penalty = Gaussian prior, α = {alpha:g}"
    else:
        radius = float(np.abs(w_tilde).sum())
        region = radius * np.array([[1, 0], [0, 1], [-1, 0], [0, -1], [1, 0]], dtype=float)
        region_label = f"‖w‖₁ = {radius:.3g} (Laplace prior contour)"
        title = f"L1 penalty = Laplace prior, α = {alpha:g}"

    points = np.vstack([np.zeros(2), w_star, w_tilde, region])
    low, high = points.min(axis=0), points.max(axis=0)
    pad = 0.15 * max(float((high - low).max()), 1e-12)
    low, high = low - pad, high + pad
    g0, g1 = np.meshgrid(np.linspace(low[0], high[0], 300), np.linspace(low[1], high[1], 300))
    d0, d1 = g0 - w_star[0], g1 - w_star[1]
    # J(w) − J(w*) = ½ (w − w*)ᵀ H (w − w*): J is exactly quadratic
    excess = 0.5 * (H[0, 0] * d0**2 + 2.0 * H[0, 1] * d0 * d1 + H[1, 1] * d1**2)
    d = w_tilde - w_star
    through = 0.5 * float(d @ H @ d)
    if through > 0:
        levels = through * np.array([0.05, 0.2, 0.45, 1.8, 3.0, 4.5])
        ax.contour(g0, g1, excess, levels=levels, colors="0.55", linewidths=0.8)
        ax.contour(g0, g1, excess, levels=[through], colors="0.15", linewidths=1.4)
    ax.plot([], [], color="0.4", label="contours of J(w) = ‖y − Xw‖²/(2σ²)")  # legend entry only
    if radius > 0:
        ax.fill(region[:, 0], region[:, 1], color=_OURS, alpha=0.15, linewidth=0)
        ax.plot(region[:, 0], region[:, 1], color=_OURS, linewidth=1.5, label=region_label)
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.axvline(0.0, color="black", linewidth=0.6)
    ax.plot(
        *w_star, "x", color="black", ms=9, mew=2, label=f"w* (least squares) = {_pair(w_star)}", gid="w_star"
    )
    ax.plot(*w_tilde, "o", color="#d62728", ms=8, label=f"w̃ (MAP) = {_pair(w_tilde)}", gid="w_tilde")
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("w₁")
    ax.set_ylabel("w₂")
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=8, frameon=False)
    return ax


def plot_prior_penalties(
    priors,
    *,
    num_features: int = 10,
    sigma: float = 1.0,
    grid=None,
    ax=None,
):
    """The "penalty" each sparsity prior implies, drawn beside the L1 and L2 penalties.

    A prior's penalty is the marginal negative log-density of one weight, ``−log p(coef_j)``, with
    every scale integrated out (the priors' ``penalty`` methods, `bayesreg.shrinkage`). Penalties
    are defined up to a constant, so every curve is drawn relative to its value at ``|coef| = 1``:
    ``pen(θ) − pen(1)``. The L1 penalty is ``|θ| − 1`` (a Laplace prior of scale 1) and the L2
    penalty ``(θ² − 1)/2`` (a Normal prior of sd 1). The sparsity priors' curves fall to ``−∞`` at
    0 (their densities are unbounded there: no MAP exists) and grow only logarithmically in the
    tails (the horseshoe's, and R2D2's), or quadratically beyond the slab (the regularised
    horseshoe's), where L1 grows linearly and L2 quadratically everywhere.

    Parameters
    ----------
    priors : sequence of sparsity priors, or mapping of label to prior
        `~bayesreg.shrinkage.Horseshoe`, `~bayesreg.shrinkage.RegularizedHorseshoe` (with
        ``n_samples`` or ``global_scale``, which set τ₀), `~bayesreg.shrinkage.R2D2`; labelled by
        their ``describe`` unless a mapping gives the labels.
    num_features : int, default 10
        p, which the regularised horseshoe's τ₀ and R2D2's Dirichlet concentration depend on.
    sigma : float, default 1
        The noise sd σ the priors' scales are relative to.
    grid : array_like, optional
        The weights to draw at, shape (n_points,); default 400 points in [−4, 4] (0 excluded).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        One line per prior (``gid`` ``"penalty"``, its label in the legend), the references
        (``gid`` ``"l1"`` and ``"l2"``) and the vertical line at 0 (``gid`` ``"zero"``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from bayesreg.plots import plot_prior_penalties
    >>> from bayesreg.shrinkage import R2D2, Horseshoe, RegularizedHorseshoe
    >>> fig, ax = plt.subplots()
    >>> priors = {"horseshoe": Horseshoe(), "regularized horseshoe": RegularizedHorseshoe(n_samples=100),
    ...           "R2D2": R2D2()}
    >>> ax = plot_prior_penalties(priors, num_features=10, ax=ax)
    >>> [line.get_label() for line in ax.get_lines() if line.get_gid() == "penalty"]
    ['horseshoe', 'regularized horseshoe', 'R2D2']
    >>> plt.close(fig)
    """
    labelled = list(priors.items()) if isinstance(priors, Mapping) else [(None, p) for p in priors]
    if not labelled:
        raise ValueError("priors is empty: give at least one sparsity prior")
    for _, prior in labelled:
        if not callable(getattr(prior, "penalty", None)) or not hasattr(prior, "describe"):
            kind = type(prior).__name__
            raise TypeError(f"priors must be sparsity priors of bayesreg.shrinkage, got {kind}")
    theta = np.linspace(-4.0, 4.0, 400) if grid is None else _vector("grid", grid)
    ax = _axes(ax)
    ax.plot(theta, np.abs(theta) - 1.0, color="0.45", linestyle="--", label="L1: |θ| (Laplace)", gid="l1")
    ax.plot(theta, (theta**2 - 1.0) / 2.0, color="0.45", linestyle=":", label="L2: θ²/2 (Normal)", gid="l2")
    for label, prior in labelled:
        penalty = prior.penalty(np.append(theta, 1.0), num_features=num_features, sigma=sigma)
        shown = label if label is not None else prior.describe(num_features=num_features)
        ax.plot(theta, penalty[:-1] - penalty[-1], linewidth=1.6, label=shown, gid="penalty")
    values = np.concatenate([line.get_ydata() for line in ax.get_lines()])
    finite = values[np.isfinite(values)]
    ax.set_ylim(max(float(finite.min()), -4.0) - 0.5, min(float(finite.max()), 8.0) + 0.5)
    ax.axvline(0.0, color="black", linewidth=0.6, gid="zero")
    ax.set_xlabel("coefficient θ")
    ax.set_ylabel("−log p(θ) + log p(1)")
    ax.set_title(f"the penalty each prior implies (p = {num_features}, σ = {sigma:g})")
    ax.legend(fontsize=7, frameon=False)
    return ax


def _pair(w) -> str:
    return "(" + ", ".join("0" if v == 0 else f"{v:.3f}" for v in w) + ")"


def plot_path(path, *, names: Sequence[str] | None = None, legend: bool = True, ax=None):
    """The regularisation path: the MAP of each weight against ``α``, with its posterior if sampled.

    Per weight (one colour each): the MAP as a solid line (gid ``"map"``, its y-data is the MAP
    itself, so it is exactly 0 wherever the penalised estimate is); for a `bayesreg.PosteriorPath`
    also the posterior median as a dashed line (gid ``"median"``) and the HDI as a shaded band (a
    PolyCollection with gid ``"hdi"``). Where the posterior at an ``α`` failed the diagnostics gate
    (`bayesreg.diagnostics.check_path_diagnostics`), a grey hatched span (gid ``"failed"``) covers
    that ``α`` (half-way to its neighbours on the log axis), with a legend entry: its median and
    band are not to be trusted. ``α`` is on a log axis, decreasing to the right (as scikit-learn
    draws lasso paths: the penalty weakens along the axis).

    Parameters
    ----------
    path : bayesreg.MAPPath or bayesreg.PosteriorPath
        From `bayesreg.map_path` or `bayesreg.posterior_path`.
    names : sequence of str, length n_features, optional
        Feature names for the legend (``x0, x1, ...`` otherwise).
    legend : bool
        Draw a legend (features, and what lines and bands mean).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    Any object with ``alphas`` and ``coefs`` draws (here a hand-made path; in practice
    ``bayesreg.map_path(X, y, alphas)``):

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from bayesreg.plots import plot_path
    >>> path = SimpleNamespace(alphas=np.array([1.0, 0.3, 0.1]),
    ...                        coefs=np.array([[0.0, 0.0], [0.0, 0.4], [0.2, 0.8]]))
    >>> fig, ax = plt.subplots()
    >>> ax = plot_path(path, names=["a", "b"], ax=ax)
    >>> ax.get_title(), [line.get_ydata().tolist() for line in ax.lines if line.get_gid() == "map"]
    ('MAP path: 3 of 6 (α, weight) pairs exactly 0', [[0.2, 0.0, 0.0], [0.8, 0.4, 0.0]])
    >>> plt.close(fig)
    """
    import matplotlib as mpl

    penalised = getattr(path, "map", path)
    if not hasattr(penalised, "coefs"):
        raise ValueError("path must be a MAPPath or PosteriorPath")
    alphas, coefs = np.asarray(path.alphas, dtype=float), np.asarray(penalised.coefs, dtype=float)
    names = _names(names, coefs.shape[1])
    posterior = hasattr(path, "median")
    ax = _axes(ax)
    colours = mpl.colormaps["tab10" if len(names) <= 10 else "tab20"]
    order = np.argsort(alphas)
    x = alphas[order]
    for j, name in enumerate(names):
        colour = colours(j % colours.N)
        if posterior:
            ax.fill_between(
                x,
                path.hdi_low[order, j],
                path.hdi_high[order, j],
                color=colour,
                alpha=0.15,
                linewidth=0,
                gid="hdi",
            )
            ax.plot(x, path.median[order, j], "--", color=colour, linewidth=1.0, gid="median")
        ax.plot(x, coefs[order, j], "-", color=colour, linewidth=1.8, label=name, gid="map")
    failed = _mark_failed(ax, path, x, order) if posterior else 0
    ax.axhline(0.0, color="0.4", linewidth=0.7)
    ax.set_xscale("log")
    ax.set_xlim(x[-1], x[0])  # strongest penalty on the left
    ax.set_xlabel("α (penalty strength, log scale)")
    ax.set_ylabel("coefficient")
    zeros = int((coefs == 0).sum())
    title = f"MAP path: {zeros} of {coefs.size} (α, weight) pairs exactly 0"
    if posterior:
        title = f"MAP path (solid), posterior median (dashed) and {path.hdi_prob:.0%} HDI (band)"
        if failed:
            title += f"\ndiagnostics failed at {failed} of {x.size} α (hatched): not to be trusted there"
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    if legend:
        handles, labels = ax.get_legend_handles_labels()
        if posterior:
            from matplotlib.lines import Line2D
            from matplotlib.patches import Patch

            handles += [
                Line2D([], [], color="0.3", linewidth=1.8, label="MAP (penalised)"),
                Line2D([], [], color="0.3", linestyle="--", linewidth=1.0, label="posterior median"),
                Patch(color="0.3", alpha=0.15, label=f"{path.hdi_prob:.0%} HDI"),
            ]
            if failed:
                handles.append(Patch(label="diagnostics failed", **_FAILED))
            labels = [h.get_label() for h in handles]
        ax.legend(handles, labels, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, frameon=False)
    return ax


_FAILED = {"facecolor": "0.85", "edgecolor": "0.55", "hatch": "///", "linewidth": 0.0}


def _mark_failed(ax, path, x, order) -> int:
    """Hatch the α of ``path`` that failed `check_path_diagnostics` (``x``: the α sorted by
    ``order``); returns how many."""
    from bayesreg.diagnostics import check_path_diagnostics

    failed = ~check_path_diagnostics(path, warn=False).ok[order]
    logs = np.log(x)
    edges = np.exp(np.concatenate([[logs[0]], (logs[1:] + logs[:-1]) / 2, [logs[-1]]]))
    if x.size == 1:
        edges = np.array([x[0] / 1.5, x[0] * 1.5])
    for i in np.flatnonzero(failed):
        ax.axvspan(edges[i], edges[i + 1], zorder=0, gid="failed", **_FAILED)
    return int(failed.sum())


# ---------------------------------------------------------------------------------------------------
# the posterior against the MAP

_MAP, _MEAN, _PRIOR = "#d62728", "0.15", _THEIRS


def _coef_draws(idata, features=None) -> tuple[np.ndarray, list[str]]:
    """Posterior draws of ``coef`` stacked over chains, shape (n_draws, k), and their feature names."""
    coef = idata.posterior["coef"]
    names = [str(n) for n in coef.coords["feature"].to_numpy()]
    draws = coef.to_numpy().reshape(-1, len(names))
    if features is None:
        return draws, names
    index = []
    for name in features:
        if str(name) not in names:
            raise ValueError(f"unknown feature {name!r}; the posterior has {', '.join(names)}")
        index.append(names.index(str(name)))
    return draws[:, index], [names[i] for i in index]


def _map_vector(map_coef, idata, features) -> np.ndarray:
    """The MAP aligned with ``features`` (all posterior features when None)."""
    map_coef = _vector("map_coef", map_coef)
    all_names = [str(n) for n in idata.posterior["coef"].coords["feature"].to_numpy()]
    if map_coef.size != len(all_names):
        raise ValueError(f"map_coef has {map_coef.size} entries, the posterior coef {len(all_names)}")
    if features is None:
        return map_coef
    return np.array([map_coef[all_names.index(str(n))] for n in features])


def _panels(axes, k: int, ncols: int, panel_size=(2.5, 2.1)) -> np.ndarray:
    """``k`` Axes: the first ``k`` of ``axes``, or a new pyplot figure of ``ncols`` columns."""
    if axes is None:
        import matplotlib.pyplot as plt

        ncols = max(1, min(ncols, k))
        nrows = -(-k // ncols)
        _, grid = plt.subplots(
            nrows,
            ncols,
            figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
            layout="constrained",
            squeeze=False,
        )
        grid = grid.ravel()
        for extra in grid[k:]:
            extra.set_visible(False)
        return grid[:k]
    grid = np.ravel(np.asarray(axes, dtype=object))
    if grid.size < k:
        raise ValueError(f"axes has {grid.size} Axes for {k} coefficients")
    return grid[:k]


def _density(draws: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density estimate of 1-d ``draws`` on ``grid`` (Scott's bandwidth)."""
    from scipy.stats import gaussian_kde

    if np.ptp(draws) == 0:
        return np.zeros_like(grid)
    return gaussian_kde(draws)(grid)


def _span(*values, pad: float = 0.08) -> tuple[float, float]:
    values = np.concatenate([np.ravel(v) for v in values])
    low, high = float(values.min()), float(values.max())
    width = max(high - low, 1e-12)
    return low - pad * width, high + pad * width


def plot_posterior_vs_map(
    idata,
    map_coef,
    *,
    features: Sequence[str] | None = None,
    hdi_prob: float = HDI_PROB,
    ncols: int = 5,
    axes=None,
):
    """Posterior density of each coefficient with the MAP (the penalised estimate) marked.

    One panel per coefficient: a kernel density estimate of the posterior draws, its
    ``hdi_prob`` HDI shaded, the posterior mean (dashed) and the MAP (solid red line; gid
    ``"map"``, its x-data is the MAP). The panel title names the feature and says when the MAP is
    exactly 0; the text gives ``P(coef > 0)``. Under a Laplace prior this shows what the lasso's
    exact zeros hide: a posterior with mass on both sides of 0.

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior with ``coef`` of dims (chain, draw, feature).
    map_coef : array_like, shape (n_features,)
        The MAP of all the posterior's features, in their order.
    features : sequence of str, optional
        Features to show (all by default), in this order.
    hdi_prob : float
        Mass of the shaded highest-density interval.
    ncols : int
        Columns of the figure made when ``axes`` is None.
    axes : array_like of matplotlib Axes, optional
        At least as many Axes as features shown (a new pyplot figure otherwise).

    Returns
    -------
    ndarray of matplotlib.axes.Axes, shape (n_shown,)

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import arviz as az, numpy as np
    >>> draws = np.random.default_rng(0).normal([0.05, 1.0], 0.2, size=(2, 200, 2))
    >>> idata = az.from_dict(posterior={"coef": draws}, coords={"feature": ["a", "b"]},
    ...                      dims={"coef": ["feature"]})
    >>> from bayesreg.plots import plot_posterior_vs_map
    >>> axes = plot_posterior_vs_map(idata, map_coef=[0.0, 0.9])
    >>> [ax.get_title() for ax in axes], [ax.texts[0].get_text() for ax in axes]
    (['a: MAP exactly 0', 'b'], ['P(>0) = 0.56', 'P(>0) = 1.00'])
    >>> plt.close(axes[0].figure)
    """
    import arviz as az

    draws, names = _coef_draws(idata, features)
    map_coef = _map_vector(map_coef, idata, features)
    panels = _panels(axes, len(names), ncols)
    for j, (ax, name) in enumerate(zip(panels, names, strict=True)):
        x = draws[:, j]
        low, high = (float(v) for v in az.hdi(x, hdi_prob=hdi_prob))
        grid = np.linspace(*_span(x, [map_coef[j], 0.0]), 300)
        density = _density(x, grid)
        ax.plot(grid, density, color=_OURS, linewidth=1.6, label="posterior", gid="posterior")
        inside = (grid >= low) & (grid <= high)
        ax.fill_between(
            grid, density, where=inside, color=_OURS, alpha=0.2, linewidth=0, label=f"{hdi_prob:.0%} HDI"
        )
        ax.axvline(0.0, color="0.6", linewidth=0.7)
        ax.axvline(float(x.mean()), color=_MEAN, linestyle="--", linewidth=1.1, label="mean", gid="mean")
        ax.axvline(map_coef[j], color=_MAP, linewidth=1.8, label="MAP", gid="map")
        is_zero = map_coef[j] == 0
        ax.set_title(f"{name}: MAP exactly 0" if is_zero else name, fontsize=9)
        ax.text(
            0.02,
            0.96,
            f"P(>0) = {(x > 0).mean():.2f}",
            transform=ax.transAxes,
            va="top",
            fontsize=7,
            color="0.3",
        )
        ax.set_yticks([])
        ax.tick_params(axis="x", labelsize=7)
        ax.set_ylim(bottom=0.0)
        if j == 0:
            ax.legend(loc="upper right", fontsize=6, framealpha=0.85)
    return panels


def _prior_sigma(prior, idata, sigma) -> tuple[float, str]:
    """The noise sd at which a noise-scaled prior is drawn, and how it was chosen."""
    if not prior.noise_scaled:
        return 1.0, ""
    if sigma is not None:
        return float(sigma), f"σ = {float(sigma):.4g} (given)"
    posterior = idata.posterior
    if "sigma" in posterior:
        value = float(np.median(posterior["sigma"].to_numpy()))
        return value, f"σ = {value:.4g}, its posterior median"
    if "sigma" in posterior.attrs:
        value = float(posterior.attrs["sigma"])
        return value, f"σ = {value:.4g} (fixed)"
    raise ValueError("the prior is scaled by the noise sd σ, which the posterior lacks: pass sigma")


def _prior_name(prior, sigma: float) -> str:
    l1, l2 = (float(v) for v in prior.rates(sigma))
    if prior.kind == "laplace":
        return f"Laplace(0, {1.0 / l1:.3g})"
    if prior.kind == "gaussian":
        return f"Normal(0, {1.0 / np.sqrt(l2):.3g})"
    return f"elastic net (λ₁ = {l1:.3g}, λ₂ = {l2:.3g})"


def plot_prior_vs_posterior(
    idata,
    prior,
    sigma: float | None = None,
    *,
    features: Sequence[str] | None = None,
    ncols: int = 5,
    axes=None,
):
    """Prior density against posterior density, one panel per coefficient.

    The prior density is ``exp(prior.distribution(1, σ).log_prob(w))`` (dashed; gid ``"prior"``),
    the posterior a kernel density estimate of the draws (gid ``"posterior"``). A prior scaled by
    the noise sd (``prior.noise_scaled``, the scikit-learn convention) is drawn at one σ: the given
    ``sigma``, or else the posterior median of ``sigma`` (the fixed σ of ``posterior.attrs`` when σ
    was not sampled), and its legend says which. With σ unknown the prior actually averages over
    σ; the curve is the prior conditional on that σ.

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior with ``coef`` of dims (chain, draw, feature).
    prior : bayesreg.priors.Prior
        The prior on each weight that the posterior was sampled under.
    sigma : float, optional
        Noise sd for a noise-scaled prior (see above); ignored otherwise.
    features : sequence of str, optional
        Features to show (all by default), in this order.
    ncols : int
        Columns of the figure made when ``axes`` is None.
    axes : array_like of matplotlib Axes, optional
        At least as many Axes as features shown (a new pyplot figure otherwise).

    Returns
    -------
    ndarray of matplotlib.axes.Axes, shape (n_shown,)

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import arviz as az, numpy as np
    >>> draws = np.random.default_rng(0).normal([0.05, 1.0], 0.2, size=(2, 200, 2))
    >>> idata = az.from_dict(posterior={"coef": draws}, coords={"feature": ["a", "b"]},
    ...                      dims={"coef": ["feature"]})
    >>> from bayesreg.plots import plot_prior_vs_posterior
    >>> from bayesreg.priors import prior_from_penalty
    >>> axes = plot_prior_vs_posterior(idata, prior_from_penalty("laplace", 2.0, convention="book"))
    >>> [text.get_text() for text in axes[0].get_legend().get_texts()]
    ['posterior', 'prior Laplace(0, 0.5)']
    >>> plt.close(axes[0].figure)
    """
    import jax

    draws, names = _coef_draws(idata, features)
    sd, how = _prior_sigma(prior, idata, sigma)
    label = f"prior {_prior_name(prior, sd)}" + (f"\nat {how}" if how else "")
    panels = _panels(axes, len(names), ncols)
    with jax.enable_x64(True):
        one = prior.distribution(1, sd)
        for j, (ax, name) in enumerate(zip(panels, names, strict=True)):
            x = draws[:, j]
            grid = np.linspace(*_span(x, [0.0]), 300)
            density = np.exp(np.asarray(one.log_prob(grid[:, None]), dtype=float))
            posterior = _density(x, grid)
            ax.plot(grid, posterior, color=_OURS, linewidth=1.6, label="posterior", gid="posterior")
            ax.fill_between(grid, posterior, color=_OURS, alpha=0.15, linewidth=0)
            ax.plot(grid, density, color=_PRIOR, linestyle="--", linewidth=1.6, label=label, gid="prior")
            ax.axvline(0.0, color="0.6", linewidth=0.7)
            ax.set_title(name, fontsize=9)
            ax.set_yticks([])
            ax.tick_params(axis="x", labelsize=7)
            ax.set_ylim(bottom=0.0)
            if j == 0:
                ax.legend(loc="upper right", fontsize=6, framealpha=0.85)
    return panels


def plot_forest_map(data, map_coef=None, *, hdi_prob: float = HDI_PROB, ax=None):
    """Forest plot: each coefficient's posterior HDI and mean against its MAP.

    One row per coefficient (first on top): the HDI as a line (a LineCollection with gid
    ``"hdi"``), the posterior mean as a dot (gid ``"mean"``) and the MAP as a red diamond (gid
    ``"map"``; exact zeros are annotated). A vertical line marks 0, so intervals that contain 0 —
    and MAP zeros whose interval does not — are seen at a glance.

    Parameters
    ----------
    data : pandas.DataFrame or arviz.InferenceData
        The table of `bayesreg.compare.compare_map_posterior` (columns ``map``, ``mean``,
        ``hdi_low``, ``hdi_high``; index the feature names), or a posterior with ``coef``, in which
        case ``map_coef`` is required and the table is computed with ``hdi_prob``.
    map_coef : array_like, shape (n_features,), optional
        The MAP, when ``data`` is an InferenceData.
    hdi_prob : float
        HDI mass when the table is computed here (a given table keeps its own).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import arviz as az, numpy as np
    >>> draws = np.random.default_rng(0).normal([0.05, 1.0], 0.2, size=(2, 200, 2))
    >>> idata = az.from_dict(posterior={"coef": draws}, coords={"feature": ["a", "b"]},
    ...                      dims={"coef": ["feature"]})
    >>> from bayesreg.plots import plot_forest_map
    >>> fig, ax = plt.subplots()
    >>> ax = plot_forest_map(idata, map_coef=[0.0, 0.9], ax=ax)
    >>> [t.get_text() for t in ax.get_yticklabels()], [t.get_text() for t in ax.texts]
    (['a', 'b'], ['MAP exactly 0'])
    >>> plt.close(fig)
    """
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        if map_coef is not None:
            raise ValueError("map_coef is taken from the table's 'map' column; do not pass it as well")
        table = data
    else:
        if map_coef is None:
            raise ValueError("map_coef is required when data is an InferenceData")
        from bayesreg.compare import compare_map_posterior

        table = compare_map_posterior(data, map_coef, hdi_prob=hdi_prob)
    missing = {"map", "mean", "hdi_low", "hdi_high"} - set(table.columns)
    if missing:
        raise ValueError(f"the table lacks the columns {', '.join(sorted(missing))}")
    prob = table.attrs.get("hdi_prob", hdi_prob)
    ax = _axes(ax)
    pos = np.arange(len(table))
    ax.axvline(0.0, color="0.5", linewidth=0.8)
    ax.hlines(
        pos,
        table["hdi_low"].to_numpy(float),
        table["hdi_high"].to_numpy(float),
        color=_OURS,
        linewidth=2.5,
        label=f"{prob:.0%} HDI",
        gid="hdi",
    )
    ax.plot(table["mean"].to_numpy(float), pos, "o", color=_MEAN, ms=5, label="posterior mean", gid="mean")
    map_values = table["map"].to_numpy(float)
    ax.plot(map_values, pos, "D", color=_MAP, ms=6, mfc="none", mew=1.6, label="MAP (penalised)", gid="map")
    for i in np.flatnonzero(map_values == 0):
        ax.annotate(
            "MAP exactly 0",
            (0.0, pos[i]),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize=7,
            color=_MAP,
        )
    ax.set_yticks(pos, [str(n) for n in table.index])
    ax.set_ylim(len(table) - 0.5, -0.7)  # first coefficient on top, room for the annotations
    ax.set_xlabel("coefficient")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return ax


def _predictive(idata, X, y, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Predictive draws (n_draws, n), the targets (n,), and where both come from."""
    if X is None:
        if "posterior_predictive" not in idata.groups():
            raise ValueError(
                "idata has no posterior_predictive group: pass X and y (linear model) to draw one"
            )
        predicted = idata.posterior_predictive["y"].to_numpy()
        predicted = predicted.reshape(-1, predicted.shape[-1])
        observed = idata.observed_data["y"].to_numpy() if y is None else _vector("y", y)
        return predicted, observed, "posterior predictive"
    if y is None:
        raise ValueError("y (the targets of X) is required with X")
    X, observed = np.asarray(X, dtype=float), _vector("y", y)
    if X.ndim != 2 or X.shape[0] != observed.size:
        raise ValueError(f"X must have shape ({observed.size}, n_features), got {X.shape}")
    # the draws of bayesreg.compare.predictive_coverage: same seed, same numbers
    from bayesreg.predictive import predictive_draws

    predicted = predictive_draws(idata, X, seed=seed)
    return predicted, observed, "posterior predictive at X"


def plot_ppc(
    idata,
    *,
    X=None,
    y=None,
    kind: str = "density",
    prob: float = 0.9,
    num_draws: int = 100,
    seed: int = 0,
    ax=None,
):
    """Posterior predictive check: observed targets against the posterior predictive.

    ``kind="density"``: the density of the observed ``y`` (thick black line, gid ``"observed"``)
    over the densities of ``num_draws`` replicated data sets (thin lines, gid ``"replicate"``).
    ``kind="intervals"``: per observation (sorted by predictive median) the central ``prob``
    predictive interval (a LineCollection with gid ``"interval"``) and the observed value, red when
    outside; the legend states the share covered, which for ``X``, ``y`` given equals
    `bayesreg.compare.predictive_coverage` with the same ``prob`` and ``seed``.

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior; with ``X`` None it needs a ``posterior_predictive`` group (and ``observed_data``
        unless ``y`` is given).
    X : array_like, shape (n_samples, n_features), optional
        Rows to predict (e.g. held-out) for a linear model: ``y* = intercept + X coef + σε`` is
        drawn once per posterior draw.
    y : array_like, shape (n_samples,), optional
        The observed targets of those rows (required with ``X``).
    kind : {"density", "intervals"}
    prob : float
        Central interval probability (``kind="intervals"``).
    num_draws : int
        Replicated data sets drawn (``kind="density"``), evenly spaced over the draws.
    seed : int
        Seed of the predictive noise when ``X`` is given.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    Held-out rows drawn from the model itself (the coverage is `bayesreg.compare.predictive_coverage`'s):

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import arviz as az, numpy as np
    >>> from bayesreg.plots import plot_ppc
    >>> rng = np.random.default_rng(1)
    >>> posterior = {"coef": rng.normal([1.0, -2.0], 0.05, size=(2, 250, 2)),
    ...              "intercept": rng.normal(0.5, 0.05, size=(2, 250)), "sigma": np.full((2, 250), 0.3)}
    >>> idata = az.from_dict(posterior=posterior, coords={"feature": ["a", "b"]}, dims={"coef": ["feature"]})
    >>> X = rng.normal(size=(40, 2))
    >>> y = 0.5 + X @ [1.0, -2.0] + 0.3 * rng.normal(size=40)
    >>> fig, ax = plt.subplots()
    >>> ax = plot_ppc(idata, X=X, y=y, kind="intervals", prob=0.9, ax=ax)
    >>> ax.get_title()
    '87.5% of 40 observations inside their 90% interval'
    >>> plt.close(fig)
    """
    if kind not in ("density", "intervals"):
        raise ValueError(f"unknown kind {kind!r}; expected 'density' or 'intervals'")
    predicted, observed, source = _predictive(idata, X, y, seed)
    ax = _axes(ax)
    if kind == "density":
        rows = np.unique(np.linspace(0, predicted.shape[0] - 1, num_draws).round().astype(int))
        grid = np.linspace(*_span(observed, predicted[rows], pad=0.02), 300)
        for i, row in enumerate(rows):
            ax.plot(
                grid,
                _density(predicted[row], grid),
                color=_OURS,
                alpha=0.15,
                linewidth=0.8,
                label=f"{source} ({len(rows)} replicates)" if i == 0 else None,
                gid="replicate",
            )
        ax.plot(
            grid, _density(observed, grid), color="black", linewidth=2.0, label="observed y", gid="observed"
        )
        ax.set_xlabel("y")
        ax.set_ylabel("density")
        ax.set_ylim(bottom=0.0)
    else:
        low, high = np.quantile(predicted, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
        median = np.median(predicted, axis=0)
        order = np.argsort(median, kind="stable")
        pos = np.arange(observed.size)
        inside = (observed >= low) & (observed <= high)
        ax.vlines(pos, low[order], high[order], color=_OURS, alpha=0.45, linewidth=2.0, gid="interval")
        ax.plot(pos, median[order], "_", color=_OURS, ms=5, label=f"{source}: median, {prob:.0%} interval")
        ok, out = inside[order], ~inside[order]
        ax.plot(
            pos[ok], observed[order][ok], ".", color="black", ms=5, label="observed, inside", gid="observed"
        )
        ax.plot(
            pos[out], observed[order][out], ".", color=_MAP, ms=7, label="observed, outside", gid="outside"
        )
        ax.set_title(
            f"{inside.mean():.1%} of {observed.size} observations inside their {prob:.0%} interval",
            fontsize=9,
        )
        ax.set_xlabel("observation (sorted by predictive median)")
        ax.set_ylabel("y")
    ax.legend(loc="best", fontsize=8)
    return ax
