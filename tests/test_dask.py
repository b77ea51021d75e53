"""Data beyond memory (`bayesreg.large`): the statistics of one Dask pass equal the in-memory ones, and
so do the MAP and (within Monte Carlo error) the NUTS posterior through them; bad values are named by
file and line; an unreachable scheduler and a dead worker are one line and exit status 2.

One local cluster (2 worker processes) serves the whole module: the command line reaches it through
DASK_SCHEDULER_ADDRESS, as a user's cluster would be reached.
"""

import functools
import os
import subprocess
import sys
import warnings

import arviz as az
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from cli_runs import run
from distributed import get_task_stream
from references import (
    assert_map_equal,
    assert_same_posterior,
    certify_logistic,
    sklearn_linear,
    sklearn_logistic,
)

from bayesreg.data import DataError, check_target, read_csv, read_table
from bayesreg.defaults import SLICE_BYTES
from bayesreg.large import (
    DaskMoments,
    SchedulerError,
    count_map_from_dask,
    dask_client,
    logistic_map_from_dask,
    moments_from_dask,
    posterior_from_moments,
    read_count_map,
    read_logistic_map,
    read_moments,
    sufficient_stats_from_dask,
)
from bayesreg.models import SufficientStats, linear_regression_stats
from bayesreg.priors import noise_prior, prior_from_penalty
from bayesreg.sampling import fit_posterior
from bayesreg.scaling import Standardization

pytestmark = pytest.mark.usefixtures("cache_home")

TARGET = "progression"
BLOCKSIZE = 3000  # bytes per partition: about 3 partitions in each of the 3 CSV files
ROW_GROUP = 40  # rows of a Parquet row group (3,520 bytes): with BLOCKSIZE, a partition each
STATS_RTOL = 1e-10
MAP_RTOL = 1e-10


@pytest.fixture(scope="module")
def client():
    """A local cluster of 2 worker processes for the module, its address in DASK_SCHEDULER_ADDRESS."""
    with dask_client() as client, pytest.MonkeyPatch.context() as patch:
        patch.setenv("DASK_SCHEDULER_ADDRESS", client.scheduler.address)
        yield client


@pytest.fixture(scope="module")
def files(tmp_path_factory, raw_diabetes_csv):
    """The unscaled diabetes data (as read from raw_diabetes_csv) split into 3 CSV and 3 Parquet files."""
    frame = pd.read_csv(raw_diabetes_csv)
    folder = tmp_path_factory.mktemp("parts")
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[rows].to_csv(folder / f"part-{i}.csv", index=False)
        frame.iloc[rows].to_parquet(folder / f"part-{i}.parquet", index=False, row_group_size=ROW_GROUP)
    return {"csv": str(folder / "part-*.csv"), "parquet": str(folder / "part-*.parquet")}


def relative_error(a, b) -> float:
    """max |a − b| over max |b|, at least 1: the error relative to the array's scale (the means of
    standardised columns are 0 here and about 1e-17 in memory, on a scale of 1)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1.0))


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_statistics_of_one_pass_equal_the_in_memory_ones(client, files, raw_diabetes_frame, kind):
    X, y = (np.asarray(v, dtype=float) for v in raw_diabetes_frame)
    with get_task_stream(client) as stream:
        moments = read_moments(files[kind], TARGET, blocksize=BLOCKSIZE, client=client)
    reduced = [task for task in stream.data if str(task["key"]).startswith("summarise-")]
    # a partition per row group of the Parquet files (147 rows: 4 groups of 40), ~3 per CSV file
    assert len(reduced) == 12 if kind == "parquet" else len(reduced) >= 6
    assert moments.n == len(y) and moments.names == list(raw_diabetes_frame[0].columns)
    assert moments.notes == []
    for center in (True, False):
        for standardize in (False, True):
            scaling = Standardization.from_data(X, center=center)
            rows = scaling.transform(X) if standardize else X
            memory = SufficientStats.from_data(rows, y, center=center)
            stats = moments.sufficient_stats(center=center, standardize=standardize)
            for field, value, expected in zip(memory._fields, stats, memory, strict=True):
                error = relative_error(value, expected)
                assert error <= STATS_RTOL, f"{kind} {field} center={center} standardize={standardize}"
        got = moments.standardization(center=center)
        assert relative_error(got.scale, scaling.scale) <= STATS_RTOL
        assert relative_error(got.mean, scaling.mean) <= STATS_RTOL if center else not got.mean.any()


def _set_slice_bytes(value: int) -> None:
    """Run on each worker: its `bayesreg._partition` slices partitions by ``value`` bytes."""
    import bayesreg._partition

    bayesreg._partition.SLICE_BYTES = value


@pytest.mark.parametrize(
    ("shape", "slice_rows"),
    [((140_000, 3), 32_768), ((3_000, 300), 3)],
    ids=["tall: 3 slices of a partition", "wide: 500 slices of 3 rows"],
)
def test_a_partition_longer_than_a_slice_is_reduced_in_slices(client, shape, slice_rows):
    """Two partitions, each reduced in slices of ``slice_rows`` rows (the workers' byte budget set to
    ``slice_rows`` rows of the columns and target) merged as the partitions are, columns far from 0:
    the in-memory statistics to 1e-10, a wide partition's too (a slice of a few rows, as
    `~bayesreg.defaults.SLICE_BYTES` gives a partition of 10⁶ columns)."""
    rng = np.random.default_rng(5)
    n, p = shape
    X = rng.normal(size=shape) * np.logspace(-2, 3, p) + np.linspace(0.0, 1e6, p)
    y = X @ rng.normal(size=p) + rng.normal(size=n)
    memory = SufficientStats.from_data(X, y)
    client.run(_set_slice_bytes, 8 * (p + 1) * slice_rows)
    try:
        stats = sufficient_stats_from_dask(
            da.from_array(X, chunks=(n // 2, p)), da.from_array(y, chunks=n // 2), client=client
        )
    finally:
        client.run(_set_slice_bytes, SLICE_BYTES)
    for field, value, expected in zip(memory._fields, stats, memory, strict=True):
        assert relative_error(value, expected) <= STATS_RTOL, field


def test_csv_files_are_split_into_several_partitions_each(files):
    parts = [dd.read_csv(path, blocksize=BLOCKSIZE).npartitions for path in sorted(_glob(files["csv"]))]
    assert len(parts) == 3 and min(parts) >= 2


def _glob(pattern):
    import glob

    return glob.glob(pattern)


def test_a_column_far_from_zero_loses_nothing_to_cancellation(client):
    """A column of mean 1e9 and sd 1: raw sums of squares (1e18 + 1) would leave no digit of its
    variance; the per-partition centring and the pairwise update keep them (against the centred
    in-memory statistics)."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(4000, 3)) + np.array([1e9, 0.0, -5e6])
    y = X[:, 0] - 1e9 + 0.5 * X[:, 1] + rng.normal(size=4000)
    stats = sufficient_stats_from_dask(
        da.from_array(X, chunks=(300, 3)), da.from_array(y, chunks=300), client=client
    )
    memory = SufficientStats.from_data(X, y)
    for field, value, expected in zip(memory._fields, stats, memory, strict=True):
        assert relative_error(value, expected) <= STATS_RTOL, field
    assert relative_error(np.diag(stats.xtx) / 4000, X.var(axis=0)) <= 1e-9


MAP_CASES = {
    "lasso": ["--prior", "laplace", "--alpha", "0.5"],
    "ridge-standardized": ["--prior", "gaussian", "--alpha", "2.0", "--standardize"],
    "enet-no-intercept": ["--prior", "elasticnet", "--alpha", "0.3", "--l1-ratio", "0.6", "--no-intercept"],
    "lasso-book-sigma": ["--prior", "laplace", "--alpha", "0.02", "--convention", "book", "--sigma", "50"],
}


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("case", list(MAP_CASES))
def test_the_map_through_dask_equals_the_in_memory_map(client, files, raw_diabetes_csv, tmp_path, kind, case):
    options = ["--target", TARGET, *MAP_CASES[case]]
    tables = {}
    for engine, data in (("dask", files[kind]), ("memory", str(raw_diabetes_csv))):
        out = tmp_path / engine
        code, stdout, stderr = run(["fit", data, "--engine", engine, "--out", str(out), *options])
        assert code == 0, stderr
        assert ("read through Dask" in stdout) == (engine == "dask")
        tables[engine] = pd.read_csv(out / "coefficients.csv").set_index("feature")["coefficient"]
    got, expected = tables["dask"], tables["memory"]
    assert list(got.index) == list(expected.index)
    assert_map_equal(  # the same exact zeros, and every coefficient to 1e-10 of its size
        got.drop("intercept", errors="ignore").to_numpy(),
        float(got.get("intercept", 0.0)),
        expected.drop("intercept", errors="ignore").to_numpy(),
        float(expected.get("intercept", 0.0)),
        rtol=MAP_RTOL,
        atol=1e-12,
        label=f"{kind} {case}",
    )


PATH_CASES = {
    "lasso": ["--n-alphas", "30"],
    "lasso standardised": ["--n-alphas", "30", "--eps", "1e-4", "--standardize"],
    "elastic net, sigma, no intercept": [
        "--prior",
        "elasticnet",
        "--l1-ratio",
        "0.3",
        "--sigma",
        "40",
        "--no-intercept",
        "--n-alphas",
        "20",
    ],
    "ridge, alphas given": ["--prior", "gaussian", "--alphas", "1000,10,0.1", "--standardize"],
}


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("case", list(PATH_CASES))
def test_the_map_path_through_dask_equals_the_in_memory_path(
    client, files, raw_diabetes_csv, tmp_path, kind, case
):
    """``bayesreg path`` through Dask (the statistics of one pass) writes the in-memory path.csv: the
    same grid and, at every alpha, the same exact zeros and coefficients to 1e-10 of their size."""
    tables = {}
    for engine, data in (("dask", files[kind]), ("memory", str(raw_diabetes_csv))):
        out = tmp_path / engine
        argv = ["path", data, "--target", TARGET, "--engine", engine, "--out", str(out), *PATH_CASES[case]]
        code, stdout, stderr = run(argv)
        assert code == 0, stderr
        assert ("read through Dask" in stdout) == (engine == "dask")
        assert sorted(os.listdir(out)) == ["path.csv", "path.png"]
        tables[engine] = pd.read_csv(out / "path.csv")
    got, expected = tables["dask"], tables["memory"]
    assert list(got.columns) == list(expected.columns) == ["alpha", "feature", "map"]
    assert list(got["feature"]) == list(expected["feature"])
    np.testing.assert_allclose(got["alpha"], expected["alpha"], rtol=MAP_RTOL)
    for alpha in expected["alpha"].unique():
        assert_map_equal(
            got.loc[np.isclose(got["alpha"], alpha, rtol=1e-12), "map"].to_numpy(),
            0.0,
            expected.loc[expected["alpha"] == alpha, "map"].to_numpy(),
            0.0,
            rtol=MAP_RTOL,
            atol=1e-12,
            label=f"{kind} {case} alpha {alpha:.4g}",
        )


def test_a_bad_value_is_named_by_file_and_line_by_path_too(client, raw_diabetes_frame, tmp_path):
    X, y = raw_diabetes_frame
    frame = X.assign(**{TARGET: y})
    folder = tmp_path / "bad"
    folder.mkdir()
    parts = np.array_split(np.arange(len(frame)), 3)
    for i, rows in enumerate(parts):
        part = frame.iloc[rows].copy()
        if i == 2:
            part.iloc[5, 3] = np.inf
        part.to_csv(folder / f"part-{i}.csv", index=False)
    out = tmp_path / "out"
    argv = ["path", str(folder / "*.csv"), "--target", TARGET, "--engine", "dask", "--out", str(out)]
    code, stdout, stderr = run(argv)
    assert code == 2 and stdout == "" and not out.exists()
    column = frame.columns[3]
    assert stderr.strip().splitlines() == [
        f"bayesreg path: error: {folder / 'part-2.csv'} line 7, column {column!r}: inf (NaN and inf values "
        "are not allowed)"
    ]


def test_the_lasso_through_dask_is_scikit_learns(client, files, raw_diabetes_frame):
    """Against scikit-learn's Lasso on the rows in memory (KKT-certified), from the Python API."""
    from bayesreg.large import map_from_moments

    X, y = (np.asarray(v, dtype=float) for v in raw_diabetes_frame)
    moments = read_moments(files["parquet"], TARGET, client=client)
    result = map_from_moments(moments, prior="laplace", alpha=0.5)
    reference = sklearn_linear("laplace", X, y, 0.5)
    params = result.map.params
    assert_map_equal(params["coef"], float(params["intercept"]), reference.coef, reference.intercept)


def _write_parts(folder, frame, kind):
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        part = frame.iloc[rows]
        if kind == "csv":
            part.to_csv(folder / f"part-{i}.csv", index=False)
        else:
            part.to_parquet(folder / f"part-{i}.parquet", index=False, row_group_size=ROW_GROUP)


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("csv", "abc", "part-1.csv line 100, column 's3': 'abc' is not a number"),
        ("csv", "", "part-1.csv line 100, column 's3': NaN (NaN and inf values are not allowed)"),
        ("csv", "-inf", "part-1.csv line 100, column 's3': inf (NaN and inf values are not allowed)"),
        ("parquet", np.inf, "part-1.parquet row 98, column 's3': inf (NaN and inf values are not allowed)"),
        ("parquet", np.nan, "part-1.parquet row 98, column 's3': NaN (NaN and inf values are not allowed)"),
    ],
)
def test_a_bad_value_in_one_partition_is_named_by_file_and_line(
    client, raw_diabetes_csv, tmp_path, kind, value, message
):
    """Row 98 of the second file (line 100 of its CSV: the header is line 1) lies in its third
    partition; Dask names the same place as the in-memory reader, and nothing is written."""
    frame = pd.read_csv(raw_diabetes_csv).astype({"s3": object})
    second = np.array_split(np.arange(len(frame)), 3)[1]
    frame.loc[second[98], "s3"] = value
    if kind == "parquet":
        frame = frame.astype({"s3": float})
    _write_parts(tmp_path, frame, kind)
    pattern = str(tmp_path / f"part-*.{kind}")
    with pytest.raises(DataError) as memory:
        read_table(pattern, TARGET)
    assert str(memory.value).endswith(message)
    out = tmp_path / "out"
    code, stdout, stderr = run(["fit", pattern, "--target", TARGET, "--engine", "dask", "--out", str(out)])
    assert code == 2 and stdout == ""
    assert stderr.strip().splitlines() == [f"bayesreg fit: error: {tmp_path / message}"]
    assert not out.exists()
    if kind == "csv":
        blocks = dd.read_csv(tmp_path / "part-1.csv", blocksize=BLOCKSIZE, dtype=object)
    else:
        blocks = dd.read_parquet(tmp_path / "part-1.parquet", blocksize=BLOCKSIZE)
    assert blocks.npartitions >= 2  # the bad line is not in the file's first partition
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_moments(pattern, TARGET, blocksize=BLOCKSIZE, client=client)


def test_a_bad_value_in_a_dask_frame_is_named_by_its_row(client):
    frame = pd.DataFrame({"a": np.arange(10.0), "b": np.ones(10), "y": np.arange(10.0) ** 2})
    frame.loc[7, "b"] = np.inf
    with pytest.raises(DataError, match=r"^row 7 \(partition 2\), column 'b': inf"):
        moments_from_dask(dd.from_pandas(frame, npartitions=3), target="y", client=client)


def test_notes_and_constant_columns_as_in_memory(client, tmp_path):
    """A saved row index in each file is dropped, spaces around names stripped, and a constant column
    refused (or dropped) with the in-memory reader's words."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({" dose": rng.normal(size=60), "batch": 1.0, "response": rng.normal(size=60)})
    for i, rows in enumerate(np.array_split(np.arange(60), 2)):
        frame.iloc[rows].reset_index(drop=True).to_csv(tmp_path / f"p{i}.csv")  # with its row index
    pattern = str(tmp_path / "p*.csv")
    with pytest.raises(DataError) as memory:
        read_table(pattern, "response")
    with pytest.raises(DataError) as large:
        read_moments(pattern, "response", blocksize=500, client=client)
    assert str(large.value) == str(memory.value)
    assert "constant columns: 'batch'" in str(memory.value)
    table = read_table(pattern, "response", drop_constant=True)
    moments = read_moments(pattern, "response", blocksize=500, drop_constant=True, client=client)
    assert moments.names == list(table.X.columns) == ["dose"]
    assert sorted(moments.notes) == sorted(table.notes)
    assert moments.n == 60


@pytest.mark.parametrize(("command", "kind"), [("fit", "csv"), ("path", "parquet")])
def test_an_unreachable_scheduler_is_one_line_and_exit_2(files, tmp_path, command, kind):
    out = tmp_path / "out"
    argv = [command, files[kind], "--target", TARGET, "--engine", "dask", "--out", str(out)]
    code, stdout, stderr = run([*argv, "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2 and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"bayesreg {command}: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9"
    ), stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (
            ["fit", "--method", "nuts", "--save-log-likelihood", "--out", "{out}"],
            "--save-log-likelihood needs",
        ),
        (["fit", "--family", "bernoulli", "--method", "nuts", "--out", "{out}"], "NUTS needs the rows"),
        (
            ["fit", "--family", "poisson", "--method", "nuts", "--out", "{out}"],
            "--family poisson through Dask",
        ),
        (["fit", "--family", "student_t", "--df", "4"], "--family student_t needs the rows"),
        (["fit", "--alpha", "cv"], "a learned alpha"),
        (["path", "--family", "poisson", "--posterior", "--out", "{out}"], "--family poisson through Dask"),
        (["path", "--family", "bernoulli", "--out", "{out}"], "--family bernoulli through Dask is a MAP"),
        (["compare", "--priors", "laplace,gaussian", "--out", "{out}"], "bayesreg compare needs the rows"),
    ],
)
def test_what_the_statistics_cannot_do_is_refused_before_the_pass(files, tmp_path, argv, reason):
    out = tmp_path / "out"
    command, *options = (arg.format(out=out) for arg in argv)
    code, stdout, stderr = run([command, files["csv"], "--target", TARGET, "--engine", "dask", *options])
    assert code == 2 and stdout == ""
    assert len(stderr.strip().splitlines()) == 1 and reason in stderr, stderr
    assert "--engine memory" in stderr
    assert not out.exists()


def test_parquet_and_globs_read_in_memory(files, raw_diabetes_csv):
    """Without Dask the files are read with pandas, the same rows as the one CSV file."""
    expected = read_csv(raw_diabetes_csv, TARGET)
    for kind in ("csv", "parquet"):
        table = read_table(files[kind], TARGET)
        pd.testing.assert_frame_equal(table.X, expected.X, check_dtype=False)
        np.testing.assert_array_equal(table.y.to_numpy(), expected.y.to_numpy())


def test_the_local_cluster_has_two_worker_processes(client):
    pids = client.run(os.getpid)  # each worker's process id
    assert len(pids) == 2 and len(set(pids.values()) - {os.getpid()}) == 2


HEAVY = ("jax", "numpyro", "sklearn")  # some 300 MB of a worker's memory, before it reads a row


def test_workers_reduce_without_importing_jax_numpyro_or_scikit_learn(
    files, cancer_files, fair_files, monkeypatch
):
    """On the fresh worker processes of a local cluster of their own (the module's cluster, which
    the `client` fixture puts in DASK_SCHEDULER_ADDRESS, has run other passes), the Gaussian pass
    of CSV and Parquet files, then a logistic MAP and a negative binomial MAP with its dispersion
    estimated load `bayesreg._partition` (the functions Dask ships) and none of JAX, NumPyro or
    scikit-learn."""

    def loaded(names):  # nested, so that cloudpickle ships it by value and importing it loads nothing
        import sys

        return sorted(name for name in names if name in sys.modules)

    watched = [*HEAVY, "bayesreg._partition", "bayesreg.large", "bayesreg.data"]
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with dask_client() as fresh:
        assert not any(fresh.run(loaded, watched).values())
        read_moments(files["parquet"], TARGET, client=fresh)
        read_moments(files["csv"], TARGET, blocksize=BLOCKSIZE, client=fresh)
        gaussian = fresh.run(loaded, watched)
        read_logistic_map(cancer_files["csv"], LOGISTIC_TARGET, blocksize=BLOCKSIZE, client=fresh)
        logistic = fresh.run(loaded, watched)
        settings = {"family": "negative_binomial", "exposure": EXPOSURE, "alpha": 0.01}
        read_count_map(fair_files["parquet"], COUNT_TARGET, client=fresh, **settings)
        counts = fresh.run(loaded, watched)
    for after in (gaussian, logistic, counts):
        assert len(after) == 2 and ["bayesreg._partition"] in after.values()
        assert all(found in ([], ["bayesreg._partition"]) for found in after.values()), after


def test_import_bayesreg_loads_its_names_on_first_use():
    """``import bayesreg`` loads none of its modules (a fresh interpreter); each name of ``__all__``
    is its module's object, ``dir`` lists them all, and ``from bayesreg import ...`` works."""
    code = (
        "import sys, bayesreg; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'numpyro', 'sklearn', "
        "'bayesreg', 'pandas')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['bayesreg']"
    import bayesreg
    from bayesreg import BayesianLinearRegression, fit_posterior

    assert set(bayesreg.__all__) <= set(dir(bayesreg))
    for name in bayesreg.__all__:
        value = getattr(bayesreg, name)
        assert getattr(sys.modules[value.__module__], name) is value, name
    assert fit_posterior is bayesreg.sampling.fit_posterior
    assert BayesianLinearRegression.__module__ == "bayesreg.estimators"
    assert bayesreg.large.read_moments is read_moments
    with pytest.raises(AttributeError, match="has no attribute 'fit_posteriors'"):
        getattr(bayesreg, "fit_posteriors")  # noqa: B009 (the attribute access is what is tested)


NUTS_OPTIONS = [
    "--target",
    TARGET,
    "--prior",
    "laplace",
    "--alpha",
    "0.5",
    "--standardize",
    "--method",
    "nuts",
]


@pytest.fixture(scope="module")
def nuts_fits(client, files, raw_diabetes_csv, tmp_path_factory):
    """``bayesreg fit --method nuts`` (4 chains x (500 + 1000)) through Dask on the 3 Parquet files
    (seed 1) and in memory on the one CSV file (seed 2): the folders and what each printed."""
    runs = {}
    for engine, data, seed in (("dask", files["parquet"], "1"), ("memory", str(raw_diabetes_csv), "2")):
        out = tmp_path_factory.mktemp(f"nuts-{engine}")
        code, stdout, stderr = run(
            ["fit", data, "--engine", engine, "--out", str(out), "--seed", seed, *NUTS_OPTIONS]
        )
        runs[engine] = (code, stdout, stderr, out)
    return runs


def test_the_nuts_posterior_through_dask_is_the_in_memory_one(nuts_fits):
    """Every weight, the intercept and sigma: mean, sd and quantiles within 4 combined MCSE of the
    in-memory posterior's (independent seeds), on the original columns (the chains sampled the
    standardised ones)."""
    draws = {}
    for engine, (code, stdout, stderr, out) in nuts_fits.items():
        assert code == 0, stderr
        assert "gate passed" in stdout
        assert engine == "memory" or "parametrisation direct" in stdout  # standardised: sds 1 apart
        posterior = az.from_netcdf(out / "posterior.nc").posterior
        assert posterior.attrs["family"] == "gaussian"
        draws[engine] = {
            **{
                f"coef[{name}]": posterior["coef"].sel(feature=name).to_numpy()
                for name in posterior.feature.values
            },
            "intercept": posterior["intercept"].to_numpy(),
            "sigma": posterior["sigma"].to_numpy(),
        }
    assert draws["dask"].keys() == draws["memory"].keys()
    assert_same_posterior(draws["memory"], draws["dask"])


def test_the_dask_posterior_file_has_no_rows(nuts_fits):
    _, stdout, stderr, out = nuts_fits["dask"]
    assert "read through Dask" in stdout and "NUTS posterior from the statistics of the pass" in stdout
    assert "posterior.nc has no observed_data and no PSIS-LOO" in stderr
    idata = az.from_netcdf(out / "posterior.nc")
    assert "observed_data" not in idata.groups() and "loo" not in idata.groups()
    assert "obs" not in idata.posterior.dims
    memory = az.from_netcdf(nuts_fits["memory"][3] / "posterior.nc")
    assert "observed_data" in memory.groups()  # what the in-memory fit has and the Dask one lacks
    table = pd.read_csv(out / "coefficients.csv").set_index("feature")
    assert table["ok"].all() and len(table) == 11
    assert sorted(os.listdir(out)) == ["coefficients.csv", "posterior.nc"]


def test_a_failed_gate_through_dask_is_exit_3_with_the_files_marked(client, files, tmp_path):
    """Too few draws for the ESS threshold: the files are written, marked, and the status is 3."""
    out = tmp_path / "out"
    argv = ["fit", files["parquet"], "--engine", "dask", "--out", str(out), "--seed", "0", *NUTS_OPTIONS]
    code, stdout, stderr = run([*argv, "--num-warmup", "20", "--num-samples", "20", "--num-chains", "2"])
    assert code == 3, stderr
    assert "gate FAILED" in stdout and "diagnostics failed" in stderr
    table = pd.read_csv(out / "coefficients.csv")
    assert not table["ok"].all()
    assert (out / "posterior.nc").exists()


def test_fit_posterior_from_statistics_alone(raw_diabetes_frame):
    """Without observed= the statistics carry no rows: log-likelihood and predictions are refused
    before anything runs, and "auto" samples the collapsed form (sigma left to sample) when the
    statistics' column sds are more than SCALE_RATIO apart (here 1e-3 ... 1e4), as it does from the
    rows (a short run)."""
    X, y = (np.asarray(v, dtype=float) for v in raw_diabetes_frame)
    stats = SufficientStats.from_data(X * np.logspace(-3, 4, X.shape[1]), y)
    for flag in ("log_likelihood", "posterior_predictive"):
        with pytest.raises(ValueError, match=f"^{flag}=True needs the rows"):
            fit_posterior(linear_regression_stats, stats, sigma=50.0, **{flag: True})
    prior = prior_from_penalty("gaussian", 1.0, convention="book")
    short = {"num_warmup": 10, "num_samples": 10, "num_chains": 1, "progress_bar": False, "prior": prior}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 10 draws fail the ESS threshold
        fit = fit_posterior(linear_regression_stats, stats, sigma=noise_prior(y), **short)
    assert fit.parametrisation == "collapsed"
    assert "observed_data" not in fit.idata.groups() and "obs" not in fit.idata.posterior.dims


# --- NUTS from the statistics of 10^7 rows -----------------------------------------------------------

MANY_ROWS = (10_000, 1_000)  # rows of the data set, and how many times each row is repeated: 10^7 rows


def _many_rows_moments(p=50):
    """`DaskMoments` of ``make_large_parquet.py``'s data, 10⁴ rows each repeated 10³ times (the
    statistics of 10⁷ rows, consistent: centred cross-products 10³ times those of the 10⁴ rows):
    standard normal columns shifted and scaled to users' units (means up to 1e4, sds 1e-2 … 1e3),
    the target half of the standardised columns with weight 1, plus unit noise."""
    rows, repeat = MANY_ROWS
    rng = np.random.default_rng(12345)
    means, sds = rng.uniform(-1e4, 1e4, size=p), 10.0 ** np.linspace(-2, 3, p)
    z = rng.standard_normal((rows, p))
    values = np.column_stack([means + sds * z, z @ (np.arange(p) % 2 == 0) + rng.standard_normal(rows)])
    centred = values - values.mean(axis=0)
    names, low, high = [f"x{j}" for j in range(p)], values.min(axis=0), values.max(axis=0)
    m2 = repeat * centred.T @ centred
    return DaskMoments(names, "y", rows * repeat, values.mean(axis=0), m2, low, high, [])


def test_the_lasso_posterior_of_ten_million_rows_does_not_hit_the_maximum_tree_depth():
    """The 10⁷-row `fit --engine dask --method nuts` (lasso, α = 0.01, standardised, σ sampled; 4 ×
    (500 + 1000)): the chains' weights must have posterior sds of order 1, not σ/√n (about 4e-4 and,
    for the 25 zero weights, 2e-5), which numpyro's mass-matrix regularisation (1e-5 added to
    each adapted variance) swamps: before, every draw hit the maximum tree depth (1,023 leapfrog
    steps); now none does, and the gate passes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a failed diagnostic is a PosteriorWarning
        fit = posterior_from_moments(
            _many_rows_moments(), prior="laplace", alpha=0.01, standardize=True, seed=0, progress_bar=False
        ).fit
    assert fit.parametrisation == "direct" and fit.mass_matrix == "diagonal"
    steps = fit.idata.sample_stats["n_steps"].to_numpy()
    assert fit.diagnostics.tree_depth_saturation == 0.0 and fit.diagnostics.ok
    assert np.mean(steps) < 127  # a mean tree depth of at most 7 (before: 1,023 steps each)


def test_the_ridge_posterior_of_ten_million_rows_is_the_conjugate_one():
    """The same 10⁷ rows, a Gaussian prior (sklearn's ``Ridge(alpha=1e6)`` on the standardised columns:
    prior sd σ/10³) and σ = 1 fixed: the posterior of the weights on the original columns is the
    exact conjugate Gaussian one, ``N(A⁻¹Xᵀy/σ², A⁻¹)`` with ``A = (XᵀX + αI)/σ²`` (centred,
    standardised columns); every mean and sd within 4 Monte Carlo standard errors (ArviZ's) of it."""
    moments = _many_rows_moments()
    alpha, sigma = 1e6, 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = posterior_from_moments(
            moments, prior="gaussian", alpha=alpha, sigma=sigma, standardize=True, seed=1, progress_bar=False
        )
    stats = moments.sufficient_stats(standardize=True)
    precision = (stats.xtx + alpha * np.eye(len(moments.names))) / sigma**2
    covariance = np.linalg.inv(precision)
    scale = result.scaling.scale
    exact_mean = covariance @ stats.xty / sigma**2 / scale
    exact_sd = np.sqrt(np.diag(covariance)) / scale
    idata = result.fit.idata
    assert result.fit.diagnostics.tree_depth_saturation == 0.0
    coef = idata.posterior["coef"]
    mean_error = az.mcse(idata, var_names=["coef"])["coef"].to_numpy()
    sd_error = az.mcse(idata, var_names=["coef"], method="sd")["coef"].to_numpy()
    assert np.all(np.abs(coef.mean(("chain", "draw")).to_numpy() - exact_mean) <= 4 * mean_error)
    assert np.all(np.abs(coef.std(("chain", "draw")).to_numpy() - exact_sd) <= 4 * sd_error)


def test_noise_prior_takes_the_targets_sd():
    y = np.array([1.0, 2.0, 3.0, 6.0])
    assert float(noise_prior(sd=float(np.std(y))).rate) == float(noise_prior(y).rate)
    for bad in ({}, {"y": y, "sd": 1.0}):
        with pytest.raises(ValueError, match="exactly one of them"):
            noise_prior(**bad)
    with pytest.raises(ValueError, match="sd must be a finite number >= 0"):
        noise_prior(sd=-1.0)


def _die_on_a_worker(part):
    """The partition as it is, except on a Dask worker, whose process it ends (a crash mid-pass)."""
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:
        return part  # Dask's metadata inference, in this process
    os._exit(1)


def test_a_worker_that_dies_mid_pass_is_a_scheduler_error(client):
    """With the scheduler's retries set to 0 the first death is final (Dask's KilledWorker): a
    SchedulerError naming it; the nannies restart the workers for the module's other tests."""
    frame = pd.DataFrame({"a": np.arange(20.0), "y": np.arange(20.0) ** 2})
    data = dd.from_pandas(frame, npartitions=2).map_partitions(_die_on_a_worker, meta=frame.head(0))
    scheduler = client.cluster.scheduler
    allowed, scheduler.allowed_failures = scheduler.allowed_failures, 0
    try:
        with pytest.raises(SchedulerError, match=r"^Dask workers died while reducing the data"):
            moments_from_dask(data, target="y", client=client)
    finally:
        scheduler.allowed_failures = allowed
        client.wait_for_workers(2, timeout=60)


# --------------------------------------------------------------------------------------------------
# the logistic MAP by distributed proximal Newton

LOGISTIC_TARGET = "diagnosis"
LOGISTIC_RTOL = 1e-8  # each coefficient to 1e-8 of its own size, against a KKT-certified reference
LOGISTIC_CASES = {  # (prior, alpha = 1/C, standardize)
    "l1": ("laplace", 1.0, False),
    "l2": ("gaussian", 1.0, False),
    "l1-standardized": ("laplace", 10.0, True),
    "l2-standardized": ("gaussian", 1.0, True),
}


@pytest.fixture(scope="module")
def cancer_files(tmp_path_factory, raw_breast_cancer_frame):
    """8 unscaled breast-cancer columns and the 0/1 diagnosis (1 = benign) in 3 CSV and 3 Parquet
    files, and 3 CSV files with the labels as text ("benign", "malignant")."""
    X, y = raw_breast_cancer_frame
    frame = X.assign(**{LOGISTIC_TARGET: y.to_numpy()})
    text = frame.assign(**{LOGISTIC_TARGET: np.where(y == 1, "benign", "malignant")})
    folder = tmp_path_factory.mktemp("cancer")
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[rows].to_csv(folder / f"part-{i}.csv", index=False)
        frame.iloc[rows].to_parquet(folder / f"part-{i}.parquet", index=False)
        text.iloc[rows].to_csv(folder / f"text-{i}.csv", index=False)
    return {kind: str(folder / f"part-*.{kind}") for kind in ("csv", "parquet")} | {
        "text": str(folder / "text-*.csv")
    }


@pytest.fixture(scope="module")
def cancer_rows(cancer_files):
    """The rows of the CSV files as the in-memory reader reads them."""
    table = read_table(cancer_files["csv"], LOGISTIC_TARGET)
    return table.X.to_numpy(dtype=float), table.y.to_numpy(dtype=float)


@functools.cache
def _logistic_reference(case, X_bytes, y_bytes, shape):
    """The KKT-certified MAP of a case (original columns): scikit-learn's LogisticRegression
    (newton-cholesky for L2, saga for L1 on the standardised columns), or for L1 on the unscaled
    columns, where saga does not converge in reasonable time, the in-memory MAP
    (`BayesianLogisticRegression`, through map_estimate) polished and certified on its support."""
    from bayesreg.estimators import BayesianLogisticRegression

    X = np.frombuffer(X_bytes).reshape(shape)
    y = np.frombuffer(y_bytes)
    prior, alpha, standardize = LOGISTIC_CASES[case]
    l1_ratio = 1.0 if prior == "laplace" else 0.0
    if standardize:
        scaling = Standardization.from_data(X)
        certified = sklearn_logistic(scaling.transform(X), y, 1.0 / alpha, l1_ratio)
        return scaling.to_original(certified.coef, certified.intercept)
    if prior == "gaussian":
        certified = sklearn_logistic(X, y, 1.0 / alpha, 0.0)
    else:
        memory = BayesianLogisticRegression(prior=prior, C=1.0 / alpha).fit(X, y)
        certified = certify_logistic(X, y, memory.coef_, memory.intercept_, l1=alpha, label="in-memory MAP")
    return certified.coef, certified.intercept


def logistic_reference(case, X, y):
    return _logistic_reference(case, X.tobytes(), y.tobytes(), X.shape)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("case", list(LOGISTIC_CASES))
def test_the_logistic_map_through_dask_is_the_certified_one(client, cancer_files, cancer_rows, kind, case):
    """Breast cancer, unscaled, in 3 files of about 3 partitions each (CSV): every coefficient and
    the intercept to 1e-8 of the certified reference, the same exact zeros."""
    prior, alpha, standardize = LOGISTIC_CASES[case]
    result = read_logistic_map(
        cancer_files[kind],
        LOGISTIC_TARGET,
        blocksize=BLOCKSIZE,
        client=client,
        prior=prior,
        alpha=alpha,
        standardize=standardize,
    )
    X, y = cancer_rows
    assert result.map.converged and result.persisted
    assert result.moments.n == len(y) and result.classes.tolist() == [0, 1]
    assert result.passes == result.map.num_steps + 3  # no step was shortened
    assert (result.scaling is not None) == standardize
    coef, intercept = logistic_reference(case, X, y)
    params = result.map.params
    assert_map_equal(
        params["coef"],
        float(params["intercept"]),
        coef,
        intercept,
        rtol=LOGISTIC_RTOL,
        label=f"{kind} {case}",
    )
    if prior == "laplace":
        assert 0 < int((coef == 0).sum()) < len(coef)  # zeros to compare


def test_text_labels_and_reading_in_every_pass(client, cancer_files, cancer_rows):
    """Labels "benign"/"malignant" model P(malignant): the weights of the 0/1 coding (P(benign))
    negated; rows read again in each pass (persist=False) give the persisted result bitwise."""
    settings = {"blocksize": BLOCKSIZE, "client": client, "prior": "laplace", "alpha": 1.0}
    text = read_logistic_map(cancer_files["text"], LOGISTIC_TARGET, **settings)
    assert text.classes.tolist() == ["benign", "malignant"]
    coef, intercept = logistic_reference("l1", *cancer_rows)
    params = text.map.params
    assert_map_equal(-params["coef"], -float(params["intercept"]), coef, intercept, rtol=LOGISTIC_RTOL)
    kept = read_logistic_map(cancer_files["parquet"], LOGISTIC_TARGET, **settings)
    again = read_logistic_map(cancer_files["parquet"], LOGISTIC_TARGET, persist=False, **settings)
    assert kept.persisted and not again.persisted
    for name in ("coef", "intercept"):
        np.testing.assert_array_equal(again.map.params[name], kept.map.params[name])


def test_the_logistic_map_of_a_dask_array_is_scikit_learns_elastic_net(client):
    """Elastic net without an intercept, from a Dask Array in 5 blocks: scikit-learn's saga, certified."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(1000, 6))
    y = (X @ np.array([1.5, 0.0, -1.0, 0.0, 0.3, 2.0]) + rng.logistic(size=1000) > 0).astype(float)
    result = logistic_map_from_dask(
        da.from_array(X, chunks=(200, 6)),
        da.from_array(y, chunks=200),
        prior="elasticnet",
        alpha=20.0,
        l1_ratio=0.7,
        fit_intercept=False,
        client=client,
    )
    reference = sklearn_logistic(X, y, 1 / 20.0, 0.7, fit_intercept=False)
    assert "intercept" not in result.map.params
    assert 0 < int((reference.coef == 0).sum())
    assert_map_equal(result.map.params["coef"], 0.0, reference.coef, 0.0, rtol=LOGISTIC_RTOL)


@pytest.mark.parametrize(
    ("kind", "column", "value", "message"),
    [
        ("csv", "mean texture", "abc", "part-1.csv line 100, column 'mean texture': 'abc' is not a number"),
        ("parquet", "mean texture", np.inf, "part-1.parquet row 98, column 'mean texture': inf (NaN and inf"),
        ("csv", LOGISTIC_TARGET, "", f"part-1.csv line 100, column '{LOGISTIC_TARGET}' (the target): NaN"),
        ("parquet", LOGISTIC_TARGET, 2, "logistic regression needs a target with 2 classes, found 3 classes"),
    ],
)
def test_a_bad_value_in_one_partition_is_refused_with_file_and_line(
    client, raw_breast_cancer_frame, tmp_path, kind, column, value, message
):
    """Row 98 of the second file (line 100 of its CSV), in its third partition; a third class is
    refused in the in-memory reader's words."""
    X, y = raw_breast_cancer_frame
    frame = X.assign(**{LOGISTIC_TARGET: y.to_numpy()}).astype({column: object})
    frame.loc[np.array_split(np.arange(len(frame)), 3)[1][98], column] = value
    if kind == "parquet":
        frame = frame.astype({column: type(value) if column == LOGISTIC_TARGET else float})
    _write_parts(tmp_path, frame, kind)
    pattern = str(tmp_path / f"part-*.{kind}")
    with pytest.raises(DataError) as memory:  # the reader names bad cells, check_target the classes
        check_target(read_table(pattern, LOGISTIC_TARGET, family="bernoulli").y, "bernoulli")
    with pytest.raises(DataError) as large:
        read_logistic_map(pattern, LOGISTIC_TARGET, blocksize=BLOCKSIZE, client=client)
    assert message in str(large.value) and message in str(memory.value)
    assert str(large.value) == str(memory.value)


def test_above_alpha_max_the_logistic_map_is_the_log_odds(client):
    """A lasso strength above alpha_max = max |Xᵀ(y − ȳ)|: every weight exactly 0, no Newton step,
    and the intercept the log-odds of the classes' counts (the closed form); just below it, one
    weight leaves 0."""
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(3000, 4)), (rng.uniform(size=3000) < 0.3).astype(float)
    largest = float(np.max(np.abs(X.T @ (y - y.mean()))))

    def fit(alpha):
        data = da.from_array(X, chunks=(1000, 4)), da.from_array(y, chunks=1000)
        return logistic_map_from_dask(*data, alpha=alpha, client=client)

    above, below = fit(largest * 1.001), fit(largest * 0.9)
    assert above.map.converged and not above.map.params["coef"].any()
    assert above.map.num_steps == 0 and above.passes == 3
    log_odds = np.log(y.sum() / (len(y) - y.sum()))
    np.testing.assert_allclose(above.map.params["intercept"], log_odds, rtol=1e-13)
    assert below.map.converged and below.map.num_steps > 0
    assert int((below.map.params["coef"] == 0).sum()) == 3


@pytest.mark.parametrize(
    "options",
    [["--prior", "gaussian", "--alpha", "1.0", "--standardize"], ["--prior", "laplace", "--alpha", "2.0"]],
)
def test_the_logistic_map_from_the_command_line_through_dask_is_the_in_memory_one(
    client, cancer_files, tmp_path, options
):
    """``fit --family bernoulli --engine dask`` (`read_logistic_map`, a pass per Newton step) writes
    the coefficients of the in-memory fit of the same files, the same exact zeros, to 1e-8."""
    tables, outputs = {}, {}
    for engine in ("dask", "memory"):
        out = tmp_path / engine
        argv = ["fit", cancer_files["csv"], "--target", LOGISTIC_TARGET, "--family", "bernoulli", *options]
        code, stdout, stderr = run([*argv, "--engine", engine, "--out", str(out)])
        assert code == 0, stderr
        tables[engine] = pd.read_csv(out / "coefficients.csv").set_index("feature")["coefficient"]
        outputs[engine] = stdout
    assert "read through Dask" in outputs["dask"] and "proximal Newton steps" in outputs["dask"]
    assert "modelling P(diagnosis = 1)" in outputs["dask"]
    got, expected = tables["dask"], tables["memory"]
    assert list(got.index) == list(expected.index)
    assert_map_equal(
        got.drop("intercept").to_numpy(),
        float(got["intercept"]),
        expected.drop("intercept").to_numpy(),
        float(expected["intercept"]),
        rtol=1e-8,
        atol=1e-12,
        label=" ".join(options),
    )


# --------------------------------------------------------------------------------------------------
# the Poisson and negative binomial MAP by distributed proximal Newton

COUNT_TARGET = "affairs"
EXPOSURE = "yrs_married"
# bytes per partition: about 7 per CSV file; one 500-row group per partition of a Parquet file (about
# 3,500 bytes compressed, which is what Dask counts)
COUNT_BLOCKSIZE = {"csv": 15_000, "parquet": 3_000}
COUNT_RTOL = 1e-8  # each coefficient to 1e-8 of its own size, against the in-memory MAP (= glum)
COUNT_CASES = {  # estimator settings; the family by its estimator
    "poisson-l1": ("poisson", {"prior": "laplace", "alpha": 0.05}),
    "poisson-l2-standardized": ("poisson", {"prior": "gaussian", "alpha": 0.1, "standardize": True}),
    "nb-enet-fixed-dispersion": (
        "negative_binomial",
        {"prior": "elasticnet", "alpha": 0.02, "l1_ratio": 0.5, "dispersion": 2.0},
    ),
    "nb-l1-dispersion-estimated": ("negative_binomial", {"prior": "laplace", "alpha": 0.01}),
}


@pytest.fixture(scope="module")
def fair_frame():
    """statsmodels' fair, unscaled: affairs per year rounded to a count, yrs_married the exposure."""
    import statsmodels.api as sm

    fair = sm.datasets.fair.load_pandas().data
    return fair.assign(**{COUNT_TARGET: np.round(fair[COUNT_TARGET])})


@pytest.fixture(scope="module")
def fair_files(tmp_path_factory, fair_frame):
    """fair in 3 CSV and 3 Parquet files (Parquet row groups of 500 rows: 5 partitions per file)."""
    folder = tmp_path_factory.mktemp("fair")
    for i, rows in enumerate(np.array_split(np.arange(len(fair_frame)), 3)):
        fair_frame.iloc[rows].to_csv(folder / f"part-{i}.csv", index=False)
        fair_frame.iloc[rows].to_parquet(folder / f"part-{i}.parquet", index=False, row_group_size=500)
    return {kind: str(folder / f"part-*.{kind}") for kind in ("csv", "parquet")}


@functools.cache
def _count_memory(case):
    """The in-memory estimator's MAP of a case on fair (itself equal to glum: tests/test_glm_map)."""
    import statsmodels.api as sm

    from bayesreg.estimators import BayesianNegativeBinomialRegression, BayesianPoissonRegression

    family, settings = COUNT_CASES[case]
    fair = sm.datasets.fair.load_pandas().data
    X = fair.drop(columns=[COUNT_TARGET, EXPOSURE])
    y, offset = np.round(fair[COUNT_TARGET].to_numpy()), np.log(fair[EXPOSURE].to_numpy())
    estimator = BayesianPoissonRegression if family == "poisson" else BayesianNegativeBinomialRegression
    return estimator(**settings).fit(X, y, offset=offset)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("case", list(COUNT_CASES))
def test_the_count_map_through_dask_is_the_in_memory_one(client, fair_files, kind, case):
    """fair, unscaled, in 3 files read by the 2-worker cluster, the exposure a column: every
    coefficient, the intercept (and an estimated dispersion) to 1e-8 of the in-memory MAP, the
    same exact zeros."""
    family, settings = COUNT_CASES[case]
    result = read_count_map(
        fair_files[kind],
        COUNT_TARGET,
        family=family,
        exposure=EXPOSURE,
        blocksize=COUNT_BLOCKSIZE[kind],
        client=client,
        **settings,
    )
    memory = _count_memory(case)
    params = result.map.params
    assert result.map.converged and result.persisted
    assert result.moments.names == list(memory.feature_names_in_)
    assert (result.scaling is not None) == bool(settings.get("standardize"))
    assert_map_equal(
        params["coef"],
        float(params["intercept"]),
        memory.coef_,
        memory.intercept_,
        rtol=COUNT_RTOL,
        label=f"{kind} {case}",
    )
    if settings["prior"] != "gaussian":
        assert 0 < int((memory.coef_ == 0).sum()) < len(memory.coef_)  # zeros to compare
    if family == "negative_binomial" and "dispersion" not in settings:
        assert abs(float(params["dispersion"]) / memory.dispersion_ - 1) <= COUNT_RTOL
    else:
        assert "dispersion" not in params


def test_the_poisson_map_of_a_dask_frame_with_an_offset_column_is_glums(client, fair_frame):
    """The log exposure as an offset column of a Dask DataFrame (6 partitions): glum's Poisson
    lasso, certified by its optimality conditions (`references.glum_glm`)."""
    from references import glum_glm

    frame = fair_frame.assign(log_years=np.log(fair_frame[EXPOSURE])).drop(columns=EXPOSURE)
    result = count_map_from_dask(
        dd.from_pandas(frame, npartitions=6),
        target=COUNT_TARGET,
        offset="log_years",
        alpha=0.05,
        client=client,
    )
    X = frame.drop(columns=[COUNT_TARGET, "log_years"]).to_numpy(float)
    y, offset = frame[COUNT_TARGET].to_numpy(float), frame["log_years"].to_numpy()
    reference = glum_glm("poisson", X, y, 0.05, 1.0, offset=offset)
    params = result.map.params
    assert result.moments.names == [c for c in frame.columns if c not in (COUNT_TARGET, "log_years")]
    assert 0 < int((reference.coef == 0).sum())
    assert_map_equal(
        params["coef"], float(params["intercept"]), reference.coef, reference.intercept, rtol=COUNT_RTOL
    )


@pytest.mark.parametrize(
    ("kind", "column", "value", "message"),
    [
        ("csv", COUNT_TARGET, -1.0, "part-1.csv line 1002, column 'affairs' (the target): -1 is negative"),
        (
            "csv",
            COUNT_TARGET,
            2.5,
            "part-1.csv line 1002, column 'affairs' (the target): 2.5 is not an integer",
        ),
        (
            "parquet",
            COUNT_TARGET,
            1.5,
            "part-1.parquet row 1000, column 'affairs' (the target): 1.5 is not an",
        ),
        (
            "csv",
            EXPOSURE,
            0.0,
            "part-1.csv line 1002, column 'yrs_married' (the exposure): 0 is not positive",
        ),
        (
            "parquet",
            EXPOSURE,
            -2.0,
            "part-1.parquet row 1000, column 'yrs_married' (the exposure): -2 is not",
        ),
    ],
)
def test_a_bad_count_or_exposure_is_refused_with_file_and_line(
    client, fair_frame, tmp_path, kind, column, value, message
):
    """Row 1,000 of the second file (line 1,002 of its CSV), past its first partition: the
    in-memory reader's message, with the file and line."""
    frame = fair_frame.copy()
    frame.loc[np.array_split(np.arange(len(frame)), 3)[1][1000], column] = value
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        if kind == "csv":
            frame.iloc[rows].to_csv(tmp_path / f"part-{i}.csv", index=False)
        else:
            frame.iloc[rows].to_parquet(tmp_path / f"part-{i}.parquet", index=False, row_group_size=500)
    pattern = str(tmp_path / f"part-*.{kind}")
    with pytest.raises(DataError) as memory:
        read_table(pattern, COUNT_TARGET, family="poisson", exposure=EXPOSURE)
    with pytest.raises(DataError) as large:
        read_count_map(
            pattern, COUNT_TARGET, exposure=EXPOSURE, blocksize=COUNT_BLOCKSIZE[kind], client=client
        )
    assert message in str(large.value)
    assert str(large.value) == str(memory.value)
    second = str(tmp_path / f"part-1.{kind}")
    read = dd.read_csv if kind == "csv" else dd.read_parquet
    assert read(second, blocksize=COUNT_BLOCKSIZE[kind]).npartitions >= 3  # the bad row is past the first


@pytest.mark.parametrize(
    "options",
    [
        ["--family", "poisson", "--prior", "laplace", "--alpha", "0.05"],
        ["--family", "negative_binomial", "--prior", "laplace", "--alpha", "0.01"],
        ["--family", "negative_binomial", "--dispersion", "2", "--prior", "gaussian", "--standardize"],
    ],
)
def test_the_count_map_from_the_command_line_through_dask_is_the_in_memory_one(
    client, fair_files, tmp_path, options
):
    """``fit --family poisson|negative_binomial --exposure COL --engine dask`` (`read_count_map`, a
    pass per Newton step) writes the coefficients of the in-memory fit of the same files, the same
    exact zeros, to 1e-8; the dispersion line is the in-memory one to its 6 digits."""
    tables, outputs = {}, {}
    for engine in ("dask", "memory"):
        out = tmp_path / engine
        argv = ["fit", fair_files["csv"], "--target", COUNT_TARGET, "--exposure", EXPOSURE, *options]
        code, stdout, stderr = run([*argv, "--engine", engine, "--out", str(out)])
        assert code == 0, stderr
        tables[engine] = pd.read_csv(out / "coefficients.csv").set_index("feature")["coefficient"]
        outputs[engine] = stdout
    assert "read through Dask" in outputs["dask"] and "proximal Newton steps" in outputs["dask"]
    described = [line for line in outputs["memory"].splitlines() if "likelihood" in line]
    assert described and described[0] in outputs["dask"]  # the prior, dispersion and offset line
    got, expected = tables["dask"], tables["memory"]
    assert list(got.index) == list(expected.index)
    assert_map_equal(
        got.drop("intercept").to_numpy(),
        float(got["intercept"]),
        expected.drop("intercept").to_numpy(),
        float(expected["intercept"]),
        rtol=COUNT_RTOL,
        atol=1e-12,
        label=" ".join(options),
    )


# --------------------------------------------------------------------------------------------------
# the posterior path from the statistics of one pass

POSTERIOR_ALPHAS = [2.0, 0.5, 0.05]  # scikit-learn's lasso alphas of the standardised columns
PATH_SAMPLER = {"num_warmup": 500, "num_samples": 1000, "num_chains": 4, "progress_bar": False}


@pytest.fixture(scope="module")
def posterior_paths(client, files, raw_diabetes_frame):
    """The lasso's posterior path (standardised columns, sigma sampled) at `POSTERIOR_ALPHAS`: from the
    statistics of the 3 Parquet files (seed 1) and from the rows in memory (seed 2)."""
    from bayesreg.large import posterior_path_from_moments
    from bayesreg.path import posterior_path

    X, y = (np.asarray(v, dtype=float) for v in raw_diabetes_frame)
    moments = read_moments(files["parquet"], TARGET, client=client)
    dask = posterior_path_from_moments(moments, POSTERIOR_ALPHAS, standardize=True, seed=1, **PATH_SAMPLER)
    memory = posterior_path(X, y, POSTERIOR_ALPHAS, standardize=True, seed=2, **PATH_SAMPLER)
    return dask, memory


def test_the_posterior_path_through_dask_is_the_in_memory_one(posterior_paths):
    """At every alpha, every weight's posterior mean, sd and quantiles within 4 combined MCSE of the
    in-memory path's (independent seeds), on the original columns; the MAP path to 1e-10, its
    zeros the same; both gates passed."""
    dask, memory = posterior_paths
    np.testing.assert_array_equal(dask.alphas, memory.alphas)
    assert dask.coef_draws.shape == memory.coef_draws.shape == (3, 4, 1000, 10)
    for i, alpha in enumerate(POSTERIOR_ALPHAS):
        got, expected = ((path.map.coefs[i], float(path.map.intercepts[i])) for path in (dask, memory))
        assert_map_equal(*got, *expected, rtol=MAP_RTOL, atol=1e-12, label=f"MAP at alpha {alpha}")
        for j in range(dask.coef_draws.shape[-1]):
            draws = {f"coef[{j}] at alpha {alpha}": dask.coef_draws[i, ..., j]}
            assert_same_posterior({f"coef[{j}] at alpha {alpha}": memory.coef_draws[i, ..., j]}, draws)
    for path in (dask, memory):
        assert np.all(path.max_r_hat < 1.01) and np.all(path.divergences == 0)


def test_path_posterior_through_dask_writes_the_in_memory_columns_and_gate(
    client, files, raw_diabetes_csv, tmp_path
):
    """``path --posterior --engine dask`` on the Parquet files and in memory on the CSV file, chains too
    short for the gate (10 warmup steps, 20 draws): both exit 3 with path.csv's posterior and gate
    columns and the failed alphas marked, the same MAP column."""
    tables = {}
    for engine, data in (("dask", files["parquet"]), ("memory", str(raw_diabetes_csv))):
        out = tmp_path / engine
        argv = ["path", data, "--target", TARGET, "--engine", engine, "--out", str(out), "--posterior"]
        argv += [
            "--alphas",
            "2,0.5",
            "--standardize",
            "--num-warmup",
            "10",
            "--num-samples",
            "20",
            "--seed",
            "0",
        ]
        code, stdout, stderr = run(argv)
        assert code == 3, stderr
        assert ("posterior from the statistics of the pass" in stdout) == (engine == "dask")
        tables[engine] = pd.read_csv(out / "path.csv")
    got, expected = tables["dask"], tables["memory"]
    assert list(got.columns) == list(expected.columns)
    assert {"median", "hdi_low", "hdi_high", "r_hat", "ess_bulk", "max_r_hat", "ok"} <= set(got.columns)
    assert not got["ok"].all() and not expected["ok"].all()
    np.testing.assert_allclose(got["map"], expected["map"], rtol=MAP_RTOL, atol=1e-12)


COUNT_PATH_CASES = {  # family, settings of map_path
    "poisson-l1": ("poisson", {"prior": "laplace"}),
    "nb-enet-standardized": (
        "negative_binomial",
        {"prior": "elasticnet", "l1_ratio": 0.5, "dispersion": 2.0, "standardize": True},
    ),
}


@pytest.mark.parametrize("case", list(COUNT_PATH_CASES))
def test_the_count_map_path_through_dask_is_the_in_memory_one(client, fair_files, fair_frame, case):
    """fair's Parquet files, the exposure a column: the grid from alpha_max (the score at weights 0)
    to 1e-10 and, at every alpha below it, the in-memory `map_path`'s exact zeros and coefficients
    to 1e-8."""
    from bayesreg.large import read_count_path
    from bayesreg.path import alpha_grid, map_path

    family, settings = COUNT_PATH_CASES[case]
    result = read_count_path(
        fair_files["parquet"],
        COUNT_TARGET,
        family=family,
        exposure=EXPOSURE,
        n_alphas=5,
        eps=0.02,
        blocksize=COUNT_BLOCKSIZE["parquet"],
        client=client,
        **settings,
    )
    X = fair_frame.drop(columns=[COUNT_TARGET, EXPOSURE]).to_numpy(float)
    y, offset = fair_frame[COUNT_TARGET].to_numpy(float), np.log(fair_frame[EXPOSURE].to_numpy())
    model = {"family": family, "convention": "glum", "offset": offset, **settings}
    alphas = alpha_grid(X, y, n_alphas=5, eps=0.02, **model)
    memory = map_path(X, y, alphas, **model)
    path = result.path
    assert result.persisted and path.converged.all() and memory.converged.all()
    np.testing.assert_allclose(path.alphas, alphas, rtol=1e-10)
    # at alpha_max every weight is 0: exactly through Dask; in memory one is at 1e-14 (the grid's
    # first point is the boundary, where a weight's score equals its penalty to round-off)
    assert not path.coefs[0].any() and np.abs(memory.coefs[0]).max() < 1e-12
    for i, alpha in enumerate(alphas[1:], start=1):
        assert_map_equal(
            path.coefs[i],
            float(path.intercepts[i]),
            memory.coefs[i],
            float(memory.intercepts[i]),
            rtol=COUNT_RTOL,
            label=f"{case} alpha {alpha:.4g}",
        )
    assert 0 < int((memory.coefs[-1] == 0).sum()) or case != "poisson-l1"


def test_the_count_path_from_the_command_line_through_dask_is_the_in_memory_one(client, fair_files, tmp_path):
    """``path --family poisson --exposure COL --engine dask`` (`read_count_path`) writes the in-memory
    command's path.csv: the same grid to 1e-10 and, below alpha_max, the same zeros and coefficients
    to 1e-8."""
    tables, outputs = {}, {}
    for engine in ("dask", "memory"):
        out = tmp_path / engine
        argv = ["path", fair_files["csv"], "--target", COUNT_TARGET, "--family", "poisson", "--exposure"]
        argv += [EXPOSURE, "--n-alphas", "6", "--eps", "0.01", "--engine", engine, "--out", str(out)]
        code, stdout, stderr = run(argv)
        assert code == 0, stderr
        assert sorted(os.listdir(out)) == ["path.csv", "path.png"]
        tables[engine], outputs[engine] = pd.read_csv(out / "path.csv"), stdout
    assert "read through Dask" in outputs["dask"] and "poisson family" in outputs["dask"]
    got, expected = tables["dask"], tables["memory"]
    assert list(got.columns) == list(expected.columns) and list(got["feature"]) == list(expected["feature"])
    np.testing.assert_allclose(got["alpha"], expected["alpha"], rtol=1e-10)
    for alpha in expected["alpha"].unique()[1:]:
        assert_map_equal(
            got.loc[np.isclose(got["alpha"], alpha, rtol=1e-9), "map"].to_numpy(),
            0.0,
            expected.loc[expected["alpha"] == alpha, "map"].to_numpy(),
            0.0,
            rtol=COUNT_RTOL,
            label=f"alpha {alpha:.4g}",
        )
