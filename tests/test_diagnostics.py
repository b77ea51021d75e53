"""`check_diagnostics`: warnings that fire on a poor run, stay silent on a good one, and say what to do.

The good run is the conjugate Gaussian model of test_sampling.py with the same settings and data shapes
(so the compiled sampler is shared when both modules run); the poor one has 5 warmup steps and 50
draws. Divergences, E-BFMI and tree-depth saturation are checked on copies of the good run with the
relevant sample statistics altered, against values computed here from the sample statistics.
"""

import warnings

import arviz as az
import numpy as np
import pytest

from bayesreg.diagnostics import PosteriorWarning, check_diagnostics
from bayesreg.models import SufficientStats, linear_regression, linear_regression_stats
from bayesreg.priors import prior_from_penalty
from bayesreg.sampling import sample_posterior

# the settings and shapes of tests/test_sampling.py
NUM_WARMUP, NUM_SAMPLES, NUM_CHAINS = 500, 2000, 4
N, P, SIGMA = 40, 3, 1.5


def _fit(num_warmup, num_samples, seed):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(N, P))
    y = 0.7 + X @ np.array([1.0, -0.5, 0.0]) + SIGMA * rng.normal(size=N)
    return sample_posterior(
        linear_regression_stats,
        SufficientStats.from_data(X, y),
        observed=(linear_regression, X, y),
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=NUM_CHAINS,
        seed=seed,
        prior=prior_from_penalty("gaussian", 4.0),
        sigma=SIGMA,
    )


@pytest.fixture(scope="module")
def good():
    return _fit(NUM_WARMUP, NUM_SAMPLES, 5)


@pytest.fixture(scope="module")
def poor():
    return _fit(5, 50, 5)


def _silent_check(idata, **kwargs):
    """`check_diagnostics` with every warning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return check_diagnostics(idata, **kwargs)


def _messages(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, PosteriorWarning)]


def test_good_run_is_silent(good):
    report = _silent_check(good)
    assert report.problems == ()
    assert report.max_rhat <= 1.01
    assert min(report.min_ess_bulk, report.min_ess_tail) >= 400
    assert report.divergences == 0
    assert report.min_ebfmi >= 0.3
    assert report.tree_depth_saturation == 0.0
    assert report.ok is True


def test_report_values_are_arviz(good):
    report = check_diagnostics(good, warn=False)
    names = ["coef", "intercept"]
    rhat = az.rhat(good, var_names=names)
    assert report.max_rhat == max(float(rhat[v].max()) for v in names)
    for method, value in (("bulk", report.min_ess_bulk), ("tail", report.min_ess_tail)):
        ess = az.ess(good, var_names=names, method=method)
        assert value == min(float(ess[v].min()) for v in names)
    assert report.divergences == int(good.sample_stats["diverging"].sum())
    assert report.min_ebfmi == float(np.min(az.bfmi(good)))


def test_poor_run_warns_with_advice(poor):
    with pytest.warns(PosteriorWarning) as record:
        report = check_diagnostics(poor)
    messages = _messages(record)
    assert len(messages) == len(report.problems) >= 1
    assert report.max_rhat > 1.01 or min(report.min_ess_bulk, report.min_ess_tail) < 400
    rhat = [m for m in messages if m.startswith("R-hat")]
    ess = [m for m in messages if m.startswith("ESS")]
    assert rhat or ess
    assert bool(rhat) == (report.max_rhat > 1.01)
    assert bool(ess) == (min(report.min_ess_bulk, report.min_ess_tail) < 400)
    assert report.ok is False
    for message in rhat:
        assert "warmup" in message and f"{report.max_rhat:.3f}" in message
    for message in ess:
        assert "num_samples" in message and "chains" in message


def test_rhat_warns_when_one_chain_is_shifted(good):
    shifted = good.copy()
    shifted.posterior["intercept"].values[0] += 1.0  # about 3 posterior sds
    with pytest.warns(PosteriorWarning) as record:
        report = check_diagnostics(shifted)
    assert report.max_rhat == float(az.rhat(shifted, var_names=["intercept"])["intercept"]) > 1.01
    (message,) = [m for m in _messages(record) if m.startswith("R-hat")]
    assert f"R-hat up to {report.max_rhat:.3f}" in message and "raise num_warmup" in message


def test_divergences_are_counted_from_sample_stats(good):
    diverging = good.copy()
    diverging.sample_stats["diverging"].values[1, [3, 50, 700]] = True
    diverging.sample_stats["diverging"].values[3, 9] = True
    with pytest.warns(PosteriorWarning, match="4 divergent transitions") as record:
        report = check_diagnostics(diverging)
    assert report.divergences == 4
    (message,) = [m for m in _messages(record) if "divergent" in m]
    assert "raise target_accept" in message and "laplace_parametrisation='mixture'" in message
    assert not report.ok


def _ebfmi(energy) -> np.ndarray:
    """E-BFMI per chain (Betancourt 2016): Σ (E_n − E_{n−1})² / Σ (E_n − Ē)²."""
    energy = np.asarray(energy)
    deviations = energy - energy.mean(axis=1, keepdims=True)
    return np.square(np.diff(energy, axis=1)).sum(axis=1) / np.square(deviations).sum(axis=1)


def test_low_ebfmi_warns(good):
    assert np.allclose(az.bfmi(good), _ebfmi(good.sample_stats["energy"]), rtol=1e-12)
    slow = good.copy()
    # energies of a chain that barely moves between levels: a slow random walk
    walk = np.cumsum(np.random.default_rng(0).normal(scale=0.05, size=NUM_SAMPLES))
    slow.sample_stats["energy"].values[2] = walk
    expected = _ebfmi(slow.sample_stats["energy"])
    assert expected[2] < 0.3 <= expected[[0, 1, 3]].min()
    with pytest.warns(PosteriorWarning, match=r"E-BFMI .*laplace_parametrisation='mixture'") as record:
        report = check_diagnostics(slow)
    assert report.min_ebfmi == pytest.approx(expected.min(), rel=1e-12)
    assert report.min_ebfmi == float(np.min(az.bfmi(slow)))
    assert len(_messages(record)) == 1


def test_run_without_energy_has_no_ebfmi_and_no_warning(good):
    """A sampler without momentum (Gibbs) records no energy: E-BFMI is NaN and never warns, and the
    rest of the gate still decides (the good run passes; one divergence fails it)."""
    no_energy = good.copy()
    del no_energy.sample_stats["energy"]
    report = _silent_check(no_energy)
    assert np.isnan(report.min_ebfmi)
    assert report.problems == () and report.ok
    reference = check_diagnostics(good, warn=False)
    assert (report.max_rhat, report.min_ess_bulk) == (reference.max_rhat, reference.min_ess_bulk)
    no_energy.sample_stats["diverging"].values[0, 0] = True
    report = check_diagnostics(no_energy, warn=False)
    assert np.isnan(report.min_ebfmi) and not report.ok
    assert [str(problem).split()[1:3] for problem in report.problems] == [["divergent", "transitions:"]]


def test_tree_depth_saturation_warns(good):
    deep = good.copy()
    deep.sample_stats["tree_depth"].values[0, :400] = 10
    with pytest.warns(PosteriorWarning, match=r"maximum tree depth 10.*max_tree_depth"):
        report = check_diagnostics(deep)
    assert report.tree_depth_saturation == 400 / (NUM_CHAINS * NUM_SAMPLES)
    # with a larger maximum the same run is fine
    assert _silent_check(deep, max_tree_depth=12).problems == ()


def test_warn_false_reports_without_warning(poor):
    report = _silent_check(poor, warn=False)
    assert report.problems  # still listed


@pytest.mark.parametrize("draws", [1, 3])
def test_too_few_draws_to_diagnose_is_a_warning_not_an_error(draws):
    """R-hat, ESS and E-BFMI need 4 draws per chain (ArviZ's E-BFMI of one draw divided by 0 when
    numba is installed): below that they are NaN and the one warning says to draw more."""
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():  # ArviZ's note that there are more chains than draws
        warnings.simplefilter("ignore", UserWarning)
        idata = az.from_dict(
            posterior={"coef": rng.normal(size=(4, draws, 2))},
            sample_stats={
                "diverging": np.zeros((4, draws), bool),
                "energy": rng.normal(size=(4, draws)),
                "tree_depth": np.full((4, draws), 3),
            },
        )
    with pytest.warns(PosteriorWarning) as record:
        report = check_diagnostics(idata)
    assert _messages(record) == list(report.problems)
    (message,) = report.problems
    assert message.startswith(f"only {draws} draw(s) per chain") and "num_samples" in message
    assert np.isnan([report.max_rhat, report.min_ess_bulk, report.min_ess_tail, report.min_ebfmi]).all()
    assert report.divergences == 0 and report.tree_depth_saturation == 0.0


def test_path_diagnostics_mark_each_alpha_and_name_where():
    """Each α that crosses a threshold is marked not ok, and the messages name those α (and only those)."""
    from types import SimpleNamespace

    from bayesreg.diagnostics import check_path_diagnostics

    path = SimpleNamespace(
        alphas=np.array([3.0, 1.0, 0.3, 0.1]),
        max_r_hat=np.array([1.001, 1.02, 1.005, np.nan]),
        min_ess_bulk=np.array([800.0, 900.0, 120.0, 700.0]),
        divergences=np.array([0, 0, 0, 2]),
    )
    with pytest.warns(PosteriorWarning) as caught:
        found = check_path_diagnostics(path)
    assert found.ok.tolist() == [True, False, False, False]
    assert len(found.problems) == len(caught) == 3
    rhat, ess, divergent = found.problems
    assert "R-hat up to 1.020 (> 1.01) at 2 alphas (1, 0.1)" in rhat
    assert "bulk ESS as low as 120 (< 400) at 1 alphas (0.3)" in ess
    assert "2 divergent transitions at 1 alphas (0.1)" in divergent
    relaxed = check_path_diagnostics(path, rhat_max=1.05, ess_min=100.0, warn=False)
    assert relaxed.ok.tolist() == [True, True, True, False]


def test_the_gate_judges_each_threshold_and_ignores_tree_depth(good):
    """``ok`` is False exactly when R-hat, bulk or tail ESS, divergences or E-BFMI cross their
    thresholds (each relaxed here past the measured value turns it back), not for tree depth."""
    report = check_diagnostics(good, warn=False)
    assert report.ok
    assert not check_diagnostics(good, warn=False, rhat_max=report.max_rhat * (1 - 1e-9)).ok
    assert not check_diagnostics(
        good, warn=False, ess_min=min(report.min_ess_bulk, report.min_ess_tail) + 1
    ).ok
    assert not check_diagnostics(good, warn=False, ebfmi_min=report.min_ebfmi + 1e-6).ok
    deep = good.copy()
    deep.sample_stats["tree_depth"].values[:] = 10
    deep_report = check_diagnostics(deep, warn=False)
    assert deep_report.ok and deep_report.problems  # warned about, not failed
    (problem,) = deep_report.problems
    assert [r.setting for r in problem.remedies] == ["standardize", "max_tree_depth", "mass_matrix"]


def test_one_chain_fails_the_gate_and_says_why(good):
    """ArviZ's R-hat needs 2 chains (NaN with one): the run cannot be checked, so it does not pass,
    and the one problem says R-hat needs at least 2 chains and to raise num_chains."""
    one = good.sel(chain=[0])
    with pytest.warns(PosteriorWarning) as record:
        report = check_diagnostics(one)
    assert np.isnan(report.max_rhat) and not report.ok
    assert report.min_ess_bulk >= 400 and report.divergences == 0
    (message,) = _messages(record)
    assert "needs at least 2" in message and message.endswith("try: raise num_chains")


def test_problems_carry_the_settings_that_address_them():
    """A `Problem` is the library's text (Python names) and renders its remedies with other names,
    leaving out the settings without one."""
    from bayesreg.diagnostics import Problem, Remedy

    problem = Problem(
        "5 divergent transitions",
        [Remedy("target_accept"), Remedy("laplace_parametrisation", "mixture", "a Laplace prior")],
    )
    assert (
        problem == "5 divergent transitions; try: raise target_accept, or laplace_parametrisation='mixture' "
        "(a Laplace prior)"
    )
    flags = {"laplace_parametrisation": "--parametrisation"}
    assert (
        problem.describe(flags) == "5 divergent transitions; try: --parametrisation mixture (a Laplace prior)"
    )
    assert Problem("x", [Remedy("standardize", True)]).describe({"standardize": "--standardize"}) == (
        "x; try: --standardize"
    )
    import pickle

    again = pickle.loads(pickle.dumps(problem))
    assert again == problem and again.remedies == problem.remedies


def test_gate_columns_per_parameter(good):
    """r_hat, ess_bulk, ess_tail from the summary, the run's divergences on every row, and ok: the
    row's own thresholds and the run's gate."""
    from bayesreg.compare import posterior_summary
    from bayesreg.diagnostics import gate_columns

    summary = posterior_summary(good)
    report = check_diagnostics(good, warn=False)
    columns = gate_columns(summary, report)
    assert list(columns.columns) == ["r_hat", "ess_bulk", "ess_tail", "divergences", "ok"]
    assert columns["ok"].all() and (columns["divergences"] == 0).all()
    assert np.array_equal(columns["r_hat"], summary["r_hat"])
    strict = gate_columns(summary, report, ess_min=summary["ess_bulk"].median())
    assert (
        strict["ok"].tolist()
        == (summary[["ess_bulk", "ess_tail"]].min(axis=1) >= summary["ess_bulk"].median()).tolist()
    )
    failed = gate_columns(summary, report._replace(ok=False, divergences=3))
    assert not failed["ok"].any() and (failed["divergences"] == 3).all()


def test_scale_problem_suggests_standardize_above_the_ratio():
    from bayesreg.defaults import SCALE_RATIO
    from bayesreg.diagnostics import scale_problem

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    assert scale_problem(X) is None
    sd = X.std(axis=0)
    wide = X * np.array([1.0, 1.0, 1.01 * SCALE_RATIO * sd[:2].max() / sd[2]])
    problem = scale_problem(wide, names=["a", "b", "c"])
    assert problem is not None and "(c)" in problem and problem.remedies[0].setting == "standardize"
    narrow = X * np.array([1.0, 1.0, 0.99 * SCALE_RATIO * sd[:2].min() / sd[2]])
    assert scale_problem(narrow) is None
    assert scale_problem(np.column_stack([X, np.zeros(200)])) is None  # a constant column is no scale
