"""bayesreg.plots: every plot returns its Axes; the geometry plot's w̃ is the seeds' closed form."""

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.linear_model import Lasso

from bayesreg.plots import plot_coefficients, plot_penalty_geometry, plot_sparsity
from bayesreg.report import geometry_example

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


def test_geometry_l1_lands_on_an_axis(problem):
    X, y, alpha = problem
    ax = plot_penalty_geometry(X, y, alpha, kind="laplace", ax=_axes())
    w = _point(ax, "w_tilde")
    assert w[1] == 0.0 and w[0] != 0.0  # the diamond's corner: an exact zero
    # J(w) + α‖w‖₁ with J = ‖y − Xw‖²/2 is n times scikit-learn's Lasso objective at alpha/n
    ref = Lasso(alpha=alpha / len(y), fit_intercept=False, tol=1e-14, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(w, ref.coef_, rtol=0, atol=1e-8)
    assert np.linalg.norm(np.linalg.lstsq(X, y, rcond=None)[0][1]) > 0.3  # not zero without the prior


def test_geometry_refuses_bad_input(problem):
    X, y, alpha = problem
    with pytest.raises(ValueError, match="shape"):
        plot_penalty_geometry(np.c_[X, X], y, alpha, ax=_axes())
    with pytest.raises(ValueError, match="unknown kind"):
        plot_penalty_geometry(X, y, alpha, kind="horseshoe", ax=_axes())
