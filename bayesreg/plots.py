"""Pictures of what a penalty (a prior) does to the coefficients.

Every function draws on ``ax`` when one is given (the current Axes of pyplot otherwise) and returns
the Axes. Only this module (and `bayesreg.report`, through it) imports matplotlib, and it never
changes the backend: `bayesreg.report` draws on ``matplotlib.figure.Figure`` objects directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "plot_coefficients",
    "plot_penalty_geometry",
    "plot_sparsity",
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
    from bayesreg.inference import map_estimate
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


def _pair(w) -> str:
    return "(" + ", ".join("0" if v == 0 else f"{v:.3f}" for v in w) + ")"
