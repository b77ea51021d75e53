"""The exported-sampler cache (`bayesreg.engine.programs`): same draws, silent fallbacks, no stray writes.

A second process that finds the NUTS sampler and the log-likelihood program on disk skips their
tracing and lowering. These tests check that this path gives bitwise the draws of the traced path
(exported in this process, and loaded from the folder), that a corrupt or stale file falls back to
tracing with the same draws, that nothing is written unless caching is on, and that the key does not
depend on the hash seed (numpyro flattens a distribution in the order of a set of names).
"""

import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import numpyro.distributions as dist
import pytest

from bayesreg.engine import programs
from bayesreg.models import linear_regression
from bayesreg.priors import prior_from_penalty
from bayesreg.sampling import sample_posterior

N, P = 30, 3
SETTINGS = {"num_warmup": 60, "num_samples": 40, "num_chains": 2, "seed": 3, "progress_bar": False}


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, P))
    return X, 0.5 + X @ np.array([1.0, 0.0, -0.5]) + rng.normal(size=N)


def _fit(X, y, **settings):
    return sample_posterior(
        linear_regression,
        X,
        y,
        prior=prior_from_penalty("laplace", 0.1, n_samples=N),
        sigma=dist.Exponential(1.0),
        posterior_predictive=True,
        **{**SETTINGS, **settings},
    )


def _arrays(idata) -> dict:
    return {(g, v): idata[g][v].to_numpy() for g in idata.groups() for v in idata[g].data_vars}


def _assert_same(first, second):
    a, b = _arrays(first), _arrays(second)
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key


def _files(folder):
    return sorted(p.name for p in folder.glob("*.jaxexport")) if folder.exists() else []


def _program(file_name):
    """The program a file holds: its name up to the model's ("nuts-advance", "loglik", ...)."""
    name = file_name.split("-bayesreg.")[0]
    return name.rsplit("-", 1)[0] if name.endswith(".jaxexport") else name  # a program without a model


# every fit's of the linear model (its LOO block written out: "loo-gaussian"), sorted as the files are
SAMPLER = ["loo-gaussian", "nuts-advance", "nuts-draws", "nuts-start", "psis-sums", "psis-tails"]
PREDICTIVE = sorted(["loglik", *SAMPLER])  # with posterior predictive draws


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same fit traced (no cache), exported into a folder, and loaded back from it."""
    folder = tmp_path_factory.mktemp("export")
    X, y = _data()
    assert jax.config.jax_compilation_cache_dir is None
    traced = _fit(X, y)
    written_without_cache = _files(folder)
    programs.forget_loaded()
    with programs.exporting(folder):
        exported = _fit(X, y)
        files = _files(folder)
        programs.forget_loaded()  # forget the in-process programs: the next fit reads the files
        loaded = _fit(X, y)
    programs.forget_loaded()
    return {
        "folder": folder,
        "traced": traced,
        "exported": exported,
        "loaded": loaded,
        "files": files,
        "written_without_cache": written_without_cache,
    }


def test_exported_and_loaded_programs_give_the_traced_draws_bitwise(runs):
    assert [_program(f) for f in runs["files"]] == PREDICTIVE
    _assert_same(runs["traced"], runs["exported"])
    _assert_same(runs["traced"], runs["loaded"])


def test_progress_bar_runs_the_same_exportable_programs_in_parts(runs, capsys):
    """With a progress bar the loop runs in 20 calls of the same program, a thread printing the
    percentage on stderr as each ends (no host callback): the draws are bitwise those of one call,
    and the programs come from the folder."""
    X, y = _data()
    programs.forget_loaded()
    try:
        with programs.exporting(runs["folder"]):
            idata = _fit(X, y, progress_bar=True)
            loaded = sorted(_program(Path(name).name) for name in programs.loaded_programs())
    finally:
        programs.forget_loaded()
    _assert_same(runs["traced"], idata)
    assert loaded == PREDICTIVE and _files(runs["folder"]) == runs["files"]  # nothing traced anew
    shown = capsys.readouterr().err.split("\r")
    assert shown[-1] == "NUTS 100%\n" and len([s for s in shown if s.startswith("NUTS")]) == 20


def test_nothing_is_written_unless_caching_is_on(runs, tmp_path):
    assert runs["written_without_cache"] == []
    assert programs.export_folder() is None  # JAX's persistent cache off, no `enabled` block
    previous = jax.config.jax_compilation_cache_dir
    jax.config.update("jax_compilation_cache_dir", str(tmp_path))
    try:
        # the command line's cache (JAX's persistent cache switched on) also holds the exports
        assert programs.export_folder() == tmp_path / programs.EXPORT_SUBFOLDER
    finally:
        jax.config.update("jax_compilation_cache_dir", previous)
    assert programs.export_folder() is None


@pytest.mark.parametrize("damage", ["truncated", "other shape"])
def test_corrupt_or_stale_files_fall_back_to_tracing(runs, tmp_path, damage):
    folder = tmp_path / "export"
    folder.mkdir()
    for name in runs["files"]:
        content = (runs["folder"] / name).read_bytes()
        if damage == "truncated":  # e.g. a crash while writing (the cache writes atomically, though)
            content = content[: len(content) // 2]
        else:  # a valid program for other argument shapes under this file's name
            other = next(f for f in runs["files"] if _program(f) != _program(name))
            content = (runs["folder"] / other).read_bytes()
        (folder / name).write_bytes(content)
    X, y = _data()
    programs.forget_loaded()
    try:
        with programs.exporting(folder):
            idata = _fit(X, y)
    finally:
        programs.forget_loaded()
    _assert_same(runs["traced"], idata)
    # the damaged files were replaced by good ones (same program signature as the originals)
    for name in runs["files"]:
        replaced = jax.export.deserialize(bytearray((folder / name).read_bytes()))
        original = jax.export.deserialize(bytearray((runs["folder"] / name).read_bytes()))
        assert replaced.in_avals == original.in_avals
        assert replaced.out_avals == original.out_avals


def test_key_does_not_depend_on_the_hash_seed():
    """numpyro orders a distribution's fields by a set: the key (and leaf order) must not follow it."""
    script = (
        "import jax, numpyro.distributions as dist\n"
        "from bayesreg.engine import programs as c\n"
        "args = ({'a': dist.Normal(1.0, 2.0), 'b': dist.Exponential(3.0), 'c': dist.Gamma(4.0, 5.0)},)\n"
        "leaves, treedef = jax.tree.flatten(c._encode(args))\n"
        "arrays = [jax.numpy.asarray(x) for x in leaves]\n"
        "print(c._key('k', (), treedef, arrays), [float(x) for x in leaves])\n"
    )
    # the four processes run at once (each is mostly its imports): one process's wall time on 2 cores
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, PYTHONHASHSEED=seed),
        )
        for seed in ("1", "2", "3", "4")
    ]
    outputs = set()
    for proc in procs:
        stdout, stderr = proc.communicate()
        assert proc.returncode == 0, stderr
        outputs.add(stdout.strip().splitlines()[-1])
    assert len(outputs) == 1, outputs
    assert outputs.pop().endswith("[1.0, 2.0, 3.0, 4.0, 5.0]")  # loc, scale; rate; concentration, rate


def test_map_is_the_same_exported_and_loaded(tmp_path):
    """The MAP solver goes through the cache too (the command line's second run skips its tracing):
    the same values, bitwise, traced, exported and loaded; σ estimated, so both of its programs."""
    from bayesreg.engine.map import map_estimate
    from bayesreg.models import SufficientStats, linear_regression_stats

    X, y = _data()
    stats = SufficientStats.from_data(X, y)

    def fit():
        prior = prior_from_penalty("laplace", 0.1, n_samples=N)
        return map_estimate(linear_regression_stats, stats, prior=prior, sigma=dist.Exponential(1.0))

    traced = fit()
    assert _files(tmp_path) == []
    programs.forget_loaded()
    with programs.exporting(tmp_path):
        exported = fit()
        files = _files(tmp_path)
        programs.forget_loaded()
        loaded = fit()
    programs.forget_loaded()
    assert any(f.startswith("map-bayesreg.models.linear.linear_regression_stats") for f in files)
    assert any(f.startswith("map-given-bayesreg.models.linear.linear_regression_stats") for f in files)
    for other in (exported, loaded):
        assert other.num_steps == traced.num_steps
        for site in traced.params:
            assert np.array_equal(other.params[site], traced.params[site]), site


def test_chains_split_across_devices_give_the_same_draws_traced_and_exported(tmp_path):
    """With two devices the chains run one per device (`jax.shard_map`), exportable like the
    one-device sampler: the exported program gives bitwise the traced draws, and the same seed the
    same draws. A fresh process, since the CPU device count is fixed when JAX starts."""
    script = f"""
import jax
jax.config.update("jax_num_cpu_devices", 2)
import numpy as np, numpyro.distributions as dist
from bayesreg import sampling
from bayesreg.engine import chains, programs
from bayesreg.models import linear_regression
from bayesreg.priors import prior_from_penalty
rng = np.random.default_rng(0)
X = rng.normal(size=({N}, {P}))
y = 0.5 + X @ np.array([1.0, 0.0, -0.5]) + rng.normal(size={N})
settings = {SETTINGS!r}
assert jax.local_device_count() == 2 and chains.devices_for(settings["num_chains"]) == 2
def fit():
    idata = sampling.sample_posterior(linear_regression, X, y,
        prior=prior_from_penalty("laplace", 0.1, n_samples={N}), sigma=dist.Exponential(1.0), **settings)
    return {{(g, v): idata[g][v].to_numpy() for g in idata.groups() for v in idata[g].data_vars}}
traced, again = fit(), fit()
with programs.exporting({str(tmp_path)!r}):
    exported = fit()
for key in traced:
    assert np.array_equal(traced[key], again[key]), key
    assert np.array_equal(traced[key], exported[key]), key
chains = traced[("posterior", "coef")]
assert chains.shape == (2, settings["num_samples"], {P}) and not np.array_equal(chains[0], chains[1])
print("OK")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), proc.stderr[-3000:]
    assert [_program(f) for f in _files(tmp_path)] == SAMPLER
