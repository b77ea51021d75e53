"""NUTS whose log-likelihood is a sum over row shards held by several JAX processes or devices.

A regression's log-likelihood is a sum over rows. When the rows are spread over several processes
(one per host, each holding its own rows) or several devices of one host, the chains need that sum
and its gradient, not the rows: `fit_sharded_posterior` runs the same NUTS chains as
`~bayesreg.sampling.sample_posterior` on a potential that is the prior's term, computed once, plus
a ``psum`` over a device mesh of each shard's log-likelihood (``jax.shard_map``). Every process
runs the same chains with the same key, so all of them hold the same draws; process 0 returns them
as an InferenceData with the diagnostics gate of `~bayesreg.sampling.fit_posterior`.

The processes join through JAX's own runtime (`connect`, which calls ``jax.distributed.initialize``;
on CPUs the cross-process sums go through gloo over TCP); `row_mesh` is the mesh of every device
of every process along one axis, ``"rows"``; `shard_rows` makes each process's rows one block of
global arrays on it. In one process with several devices (GPUs, or CPU devices forced with
``XLA_FLAGS=--xla_force_host_platform_device_count=N``) the same calls run unchanged, without
`connect`.

What is sharded: the rows (``X``, ``y``) and every pass over them, the gradient's included. What
is not: the parameters, the sampler's state and the draws, which every process holds whole and
computes identically; a shard's work per gradient is O(rows × p), the sum across shards one
``psum`` of a number per leapfrog step.

Examples
--------
One process, one device: the mesh has one shard, and the chains are those of `sample_posterior`
on the same rows, up to the order of the sums (in the preconditioning's column means and sds here).
NUTS amplifies such a difference about tenfold every ten steps, so these runs are short; longer
ones give other draws of the same posterior:

>>> import warnings
>>> import numpy as np
>>> from bayesreg.models import logistic_regression
>>> from bayesreg.priors import prior_from_penalty
>>> from bayesreg.sampling import sample_posterior
>>> from bayesreg.sharded import fit_sharded_posterior, shard_rows
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(60, 2))
>>> y = (rng.random(60) < 1 / (1 + np.exp(-X @ [1.0, -1.0]))).astype(float)
>>> prior = prior_from_penalty("gaussian", 1.0, family="bernoulli")
>>> settings = {"num_warmup": 10, "num_samples": 20, "num_chains": 2, "seed": 0}
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")  # 20 draws are too few for the diagnostics' thresholds
...     fit = fit_sharded_posterior(logistic_regression, shard_rows(X, y), prior=prior, **settings)
...     alone = sample_posterior(logistic_regression, X, y, prior=prior, progress_bar=False, **settings)
>>> float(abs(fit.idata.posterior["coef"] - alone.posterior["coef"]).max()) < 1e-10
True
>>> fit.parametrisation, fit.map, fit.idata.posterior["coef"].shape
('direct', None, (2, 20, 2))
"""

from __future__ import annotations

import functools
import os
import socket
import time
from typing import TYPE_CHECKING, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from numpyro import handlers
from numpyro.infer import log_likelihood

from bayesreg.defaults import MASS_MATRIX, MAX_TREE_DEPTH, NUTS
from bayesreg.diagnostics import check_diagnostics
from bayesreg.engine.arrays import as_arrays, split_static
from bayesreg.engine.chains import Chains, fall_back_to_mixture, sample_chains
from bayesreg.models import SufficientStats, linear_regression, logistic_regression
from bayesreg.params import check_param, check_params
from bayesreg.sampling import (
    FEATURE_SITES,
    PosteriorFit,
    Preconditioning,
    arviz_sample_stats,
    default_num_warmup,
    default_target_accept,
)

if TYPE_CHECKING:
    import arviz as az

__all__ = [
    # joining the processes, and their devices as one mesh
    "CONNECT_TIMEOUT",
    "ROW_AXIS",
    "connect",
    "row_mesh",
    # the rows of every process as global arrays, and what they sum to
    "ShardedRows",
    "shard_rows",
    "sufficient_stats",
    # the posterior
    "SHARDED_MODELS",
    "fit_sharded_posterior",
    "sharded_model",
]

ROW_AXIS = "rows"
"""The name of the mesh axis the rows are split along (`row_mesh`)."""

CONNECT_TIMEOUT = 120
"""Seconds `connect` waits for every process to reach the coordinator before it gives up."""

SHARDED_MODELS = (linear_regression, logistic_regression)
"""The models `fit_sharded_posterior` samples: one likelihood term per row, in the site ``y``."""


def connect(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    timeout: int = CONNECT_TIMEOUT,
) -> None:
    """Join this process to the others of a run (``jax.distributed.initialize``).

    Call it once per process, before JAX computes anything. Process 0 serves as the coordinator at
    ``coordinator_address`` (``"host:port"``, reachable from every process); the others connect to
    it. Arguments left None come from the environment variables ``JAX_COORDINATOR_ADDRESS``,
    ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID``, or from a cluster JAX detects (Slurm, Open MPI,
    Kubernetes...). On CPUs the processes sum across each other with gloo over TCP (JAX's
    ``jax_cpu_collectives_implementation``).

    Parameters
    ----------
    coordinator_address : str, optional
        ``"host:port"`` of process 0.
    num_processes : int, optional
        How many processes take part.
    process_id : int, optional
        This process's number, from 0 to ``num_processes − 1``.
    timeout : int
        Seconds to wait for every process to connect (`CONNECT_TIMEOUT`).

    Raises
    ------
    ConnectionError
        When the coordinator cannot be reached within ``timeout`` seconds (a process other than 0
        first waits for its address to accept a connection); the message names its address.

    Examples
    --------
    A process that finds no coordinator (here after one second) says where it looked (the
    launcher of a real run, and tests/test_sharded.py, run it in a process of its own)::

        from bayesreg.sharded import connect
        connect("127.0.0.1:1", num_processes=2, process_id=1, timeout=1)
        # ConnectionError: process 1 of 2 could not reach the JAX coordinator at 127.0.0.1:1 ...

    Checked without connecting:

    >>> from bayesreg.sharded import connect
    >>> connect("127.0.0.1:1", num_processes=2, process_id=2)
    Traceback (most recent call last):
    ...
    ValueError: process_id must be in [0, 2), got 2
    """
    env = os.environ
    address = coordinator_address or env.get("JAX_COORDINATOR_ADDRESS")
    if num_processes is None and "JAX_NUM_PROCESSES" in env:
        num_processes = int(env["JAX_NUM_PROCESSES"])
    if process_id is None and "JAX_PROCESS_ID" in env:
        process_id = int(env["JAX_PROCESS_ID"])
    if num_processes is not None and process_id is not None and not 0 <= process_id < num_processes:
        raise ValueError(f"process_id must be in [0, {num_processes}), got {process_id}")
    if address is not None and process_id != 0:  # process 0 serves the coordinator
        _wait_for_coordinator(address, timeout, f"process {process_id} of {num_processes}")
    try:
        jax.distributed.initialize(address, num_processes, process_id, initialization_timeout=int(timeout))
    except (RuntimeError, jax.errors.JaxRuntimeError) as error:
        raise ConnectionError(
            f"process {process_id} of {num_processes} could not reach the JAX coordinator at {address} "
            f"within {timeout} s: is process 0 running, and is that address reachable from this host? "
            f"({str(error).splitlines()[0]})"
        ) from error


def _wait_for_coordinator(address: str, timeout: float, who: str) -> None:
    """Return once ``address`` (``"host:port"``) accepts a TCP connection; a `ConnectionError`
    naming it after ``timeout`` seconds. JAX's own client, when it cannot register with the
    coordinator, ends the process (a fatal log line) instead of raising."""
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
                return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise ConnectionError(
                    f"{who} could not reach the JAX coordinator at {address} within {timeout} s: is "
                    f"process 0 running, and is that address reachable from this host? ({error})"
                ) from error
            time.sleep(0.2)


def row_mesh() -> Mesh:
    """Every device of every process along the one mesh axis `ROW_AXIS`, process after process.

    Returns
    -------
    jax.sharding.Mesh

    Examples
    --------
    >>> import jax
    >>> from bayesreg.sharded import row_mesh
    >>> mesh = row_mesh()
    >>> mesh.axis_names, mesh.size == jax.device_count()
    (('rows',), True)
    """
    devices = sorted(jax.devices(), key=lambda d: (d.process_index, d.id))
    return Mesh(np.asarray(devices), (ROW_AXIS,))


class ShardedRows(NamedTuple):
    """The rows of every process as global arrays split along `ROW_AXIS`, as `shard_rows` makes them.

    Each process's rows are padded to the same number per device; padded rows have weight 0.

    Attributes
    ----------
    X : jax.Array, shape (padded_rows, n_features)
    y : jax.Array, shape (padded_rows,)
    weight : jax.Array, shape (padded_rows,)
        1 for a row of the data, 0 for padding.
    mesh : jax.sharding.Mesh
        The mesh they are split on.
    rows : tuple of int
        Rows of the data held by each process, in process order.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.sharded import shard_rows
    >>> data = shard_rows(np.ones((5, 3)), np.zeros(5))
    >>> data.rows, data.X.shape[1], float(data.weight.sum())
    ((5,), 3, 5.0)
    """

    X: jax.Array
    y: jax.Array
    weight: jax.Array
    mesh: Mesh
    rows: tuple[int, ...]


def shard_rows(X, y, mesh: Mesh | None = None) -> ShardedRows:
    """This process's rows ``(X, y)`` as its block of global arrays split along `ROW_AXIS`.

    Every process of the run calls it with its own rows (any number of them, the same columns).
    The rows are padded with zero-weight rows to the same number per device, and each block lands
    on the process's own devices of ``mesh``: no row leaves its process.

    Parameters
    ----------
    X : array_like, shape (n_rows, n_features)
        This process's rows.
    y : array_like, shape (n_rows,)
        Their targets.
    mesh : jax.sharding.Mesh, optional
        A mesh with the one axis `ROW_AXIS` (default `row_mesh`).

    Returns
    -------
    ShardedRows

    Raises
    ------
    ValueError
        When ``X`` is not a matrix, ``y`` does not have one value per row, a value is not finite,
        or the processes' rows do not have the same number of columns (the message lists each
        process's count).

    Examples
    --------
    On two devices (two processes, or ``--xla_force_host_platform_device_count=2``) the 5 rows of
    this example would be padded to 6, three per device; on one device there is no padding:

    >>> import numpy as np
    >>> from bayesreg.sharded import shard_rows
    >>> data = shard_rows(np.arange(10.0).reshape(5, 2), np.arange(5.0))
    >>> data.X.shape, data.X.sharding.spec
    ((5, 2), P('rows',))
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    process = jax.process_index()
    if X.ndim != 2:
        raise ValueError(f"X must be a matrix (rows, columns); process {process} has shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"y must have one value per row of X; process {process} has {y.shape} for X {X.shape}"
        )
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise ValueError(f"X and y must be finite; process {process} has a NaN or infinite value")
    mesh = row_mesh() if mesh is None else mesh
    shapes = np.asarray(multihost_utils.process_allgather(np.asarray(X.shape, dtype=np.int64))).reshape(-1, 2)
    if len(set(shapes[:, 1].tolist())) > 1:
        counts = ", ".join(f"process {i}: {int(c)}" for i, c in enumerate(shapes[:, 1]))
        raise ValueError(f"the processes' rows must have the same columns; their column counts are {counts}")
    local_devices = mesh.local_mesh.size
    per_device = max(1, -(-int(shapes[:, 0].max()) // local_devices))
    padding = per_device * local_devices - X.shape[0]
    weight = np.concatenate([np.ones(X.shape[0]), np.zeros(padding)])
    X = np.concatenate([X, np.zeros((padding, X.shape[1]))])
    y = np.concatenate([y, np.zeros(padding)])
    sharding = NamedSharding(mesh, P(ROW_AXIS))
    total = per_device * mesh.size
    with jax.enable_x64(True):
        X, y, weight = (
            jax.make_array_from_process_local_data(sharding, a, (total, *a.shape[1:])) for a in (X, y, weight)
        )
    return ShardedRows(X, y, weight, mesh, tuple(int(r) for r in shapes[:, 0]))


@functools.cache
def _stats_program(mesh: Mesh, center: bool):
    """The jitted sums of `sufficient_stats` on ``mesh``."""

    def local(X, y, weight):
        def total(a):
            return jax.lax.psum(a, ROW_AXIS)

        n = total(weight.sum())
        x_mean = total(weight @ X) / n if center else jnp.zeros(X.shape[1])
        y_mean = total(weight @ y) / n if center else jnp.zeros(())
        Xc, yc = X - x_mean, y - y_mean
        weighted = Xc * weight[:, None]
        return SufficientStats(
            n, x_mean, y_mean, total(weighted.T @ Xc), total(weighted.T @ yc), total(weight @ yc**2)
        )

    spec = P(ROW_AXIS)
    return jax.jit(jax.shard_map(local, mesh=mesh, in_specs=(spec, spec, spec), out_specs=P()))


def sufficient_stats(data: ShardedRows, *, center: bool = True) -> SufficientStats:
    """The Gaussian likelihood's sufficient statistics of the rows of every process.

    Each shard's sums, then one ``psum`` across the mesh: the same statistics as
    `~bayesreg.models.SufficientStats.from_data` on all the rows in one process, up to the order
    of the sums. With them the model `~bayesreg.models.linear_regression_stats` (its density, its
    MAP by `~bayesreg.engine.map_estimate`) costs nothing in the rows, in any one process;
    `fit_sharded_posterior` uses them for its preconditioning.

    Parameters
    ----------
    data : ShardedRows
    center : bool
        Centre the columns and the target by their means (a model with an intercept).

    Returns
    -------
    SufficientStats
        NumPy float64 arrays, the same in every process.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.models import SufficientStats
    >>> from bayesreg.sharded import shard_rows, sufficient_stats
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(7, 2)), rng.normal(size=7)
    >>> stats, alone = sufficient_stats(shard_rows(X, y)), SufficientStats.from_data(X, y)
    >>> all(np.allclose(a, b, rtol=1e-12) for a, b in zip(stats, alone))
    True

    The ridge estimate from them (the MAP of a Gaussian prior, scikit-learn's convention):

    >>> from sklearn.linear_model import Ridge
    >>> from bayesreg.engine import map_estimate
    >>> from bayesreg.models import linear_regression_stats
    >>> from bayesreg.priors import prior_from_penalty
    >>> prior = prior_from_penalty("gaussian", 1.0, convention="sklearn")
    >>> mode = map_estimate(linear_regression_stats, stats, prior=prior, sigma=1.0)
    >>> bool(np.allclose(mode.params["coef"], Ridge(alpha=1.0).fit(X, y).coef_, rtol=1e-10))
    True
    """
    with jax.enable_x64(True):
        stats = _stats_program(data.mesh, bool(center))(data.X, data.y, data.weight)
        return SufficientStats(*(np.asarray(v) for v in stats))


@functools.cache
def sharded_model(model, mesh: Mesh):
    """``model`` with its likelihood summed across the row shards of ``mesh``.

    The returned model takes ``(X, y, weight, **model_kwargs)`` with global arrays split along
    `ROW_AXIS` (a `ShardedRows`). It runs ``model`` on one row of zeros whose likelihood site it
    hides, which samples the parameters under their priors (the prior's term of the density,
    once), and adds one factor ``y``: on each
    shard the ``weight``-weighted sum of ``model``'s per-row log-likelihood (numpyro's
    ``log_likelihood`` of its site ``y``), summed across the shards by ``jax.lax.psum`` inside
    ``jax.shard_map``. Its density is ``model``'s on all the rows; its sites, and the order they
    draw their random starts in, are ``model``'s, so the same key starts the same chains. Cached,
    so that jitted programs of the same model and mesh are reused; never exported to disk
    (`bayesreg.engine.programs`), whose keys do not tell one mesh from another of as many devices.

    Parameters
    ----------
    model : callable
        A model of `SHARDED_MODELS`: the per-row likelihood in the site ``y``.
    mesh : jax.sharding.Mesh
        A mesh with the axis `ROW_AXIS`.

    Returns
    -------
    callable

    Examples
    --------
    The density of the sharded model is the model's:

    >>> import jax, numpy as np
    >>> from numpyro.infer.util import log_density
    >>> from bayesreg.models import logistic_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> from bayesreg.sharded import shard_rows, sharded_model
    >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.0, 1.0, 1.0])
    >>> kwargs = {"prior": prior_from_penalty("gaussian", 1.0, family="bernoulli")}
    >>> params = {"coef": np.array([0.5, 1.0]), "intercept": np.array(0.5)}
    >>> data = shard_rows(X, y)
    >>> sharded = sharded_model(logistic_regression, data.mesh)
    >>> whole = log_density(logistic_regression, (X, y), kwargs, params)[0]
    >>> split = log_density(sharded, (data.X, data.y, data.weight), kwargs, params)[0]
    >>> bool(np.isclose(whole, split, rtol=1e-12))
    True
    """
    spec = P(ROW_AXIS)

    def shard_log_likelihood(X, y, weight, params, dynamic, static):
        with handlers.block():  # the model's handlers (the density's trace) see only the sum
            per_row = log_likelihood(model, params, X, y, batch_ndims=0, **dynamic, **dict(static))["y"]
        return jax.lax.psum(jnp.sum(weight * per_row), ROW_AXIS)

    def sharded(X, y=None, weight=None, **kwargs):
        with handlers.block(hide=["obs", "y"]), handlers.trace() as trace:
            model(jnp.zeros((1, X.shape[1]), X.dtype), jnp.zeros((1,), X.dtype), **kwargs)
        params = {k: s["value"] for k, s in trace.items() if s["type"] in ("sample", "deterministic")}
        params.pop("y")
        dynamic, static = split_static(kwargs)
        total = jax.shard_map(
            functools.partial(shard_log_likelihood, static=static),
            mesh=mesh,
            in_specs=(spec, spec, spec, P(), P()),
            out_specs=P(),
        )(X, y, weight, params, dynamic)
        numpyro.factor("y", total)

    sharded.__name__ = sharded.__qualname__ = f"sharded_{getattr(model, '__name__', 'model')}"
    # a partial, not a function: the export cache (`bayesreg.engine.programs`) keeps only programs
    # of bayesreg's own functions, keyed by their name and the device count, which do not say
    # which mesh (processes or local devices) the program's sums run over
    return functools.partial(sharded)


def fit_sharded_posterior(
    model,
    data: ShardedRows,
    *,
    feature_names=None,
    num_warmup: int | None = None,
    num_samples: int = NUTS.num_samples,
    num_chains: int = NUTS.num_chains,
    seed: int = 0,
    laplace_parametrisation: str = "auto",
    mass_matrix: str = MASS_MATRIX,
    target_accept: float | None = None,
    max_tree_depth: int = MAX_TREE_DEPTH,
    progress_bar: bool = False,
    precondition: bool = True,
    **model_kwargs,
) -> PosteriorFit | None:
    """NUTS posterior of ``model`` on the rows of every process, the likelihood summed across them.

    Every process of the run calls it with its `ShardedRows` and the same settings. The chains are
    those of `~bayesreg.sampling.sample_posterior` (the same seed gives the same draws, up to the
    order of the sums in the log-likelihood): on the model's density (`sharded_model`), over
    rescaled weights (`~bayesreg.sampling.Preconditioning`, from the statistics of all rows:
    `sufficient_stats`), started uniformly in (−2, 2) with an identity mass matrix, and with
    ``laplace_parametrisation="auto"`` under a Laplace prior sampled again as the scale mixture if
    any transition diverged (`~bayesreg.engine.chains.fall_back_to_mixture`). All the chains run in
    one program over the mesh; each process computes them whole, so every process holds the same
    draws and takes the same decisions.

    Process 0 checks the diagnostics (`~bayesreg.diagnostics.check_diagnostics`, warning for each
    threshold crossed) and returns the fit; the other processes return None. No MAP is computed
    (it would need the rows in one place): ``map`` is None. The InferenceData has the groups
    ``posterior``, ``sample_stats`` and ``observed_data`` (the targets of every process, in process
    order: n numbers); no PSIS-LOO, which needs each row's log-likelihood at every draw.

    Parameters
    ----------
    model : callable
        `~bayesreg.models.linear_regression` or `~bayesreg.models.logistic_regression`.
    data : ShardedRows
        The rows, from `shard_rows`.
    feature_names : sequence of str, optional
        Coordinates of the ``feature`` dimension of ``coef``.
    num_warmup, num_samples, num_chains, seed
        As for `~bayesreg.sampling.sample_posterior` (``num_warmup=None``: the prior's own,
        `~bayesreg.sampling.default_num_warmup`).
    laplace_parametrisation : {"auto", "direct", "mixture"}
        As for `~bayesreg.sampling.fit_posterior`, without the collapsed form (it is built from the
        sufficient statistics: `sufficient_stats`).
    mass_matrix, target_accept, max_tree_depth, precondition
        As for `~bayesreg.sampling.sample_posterior` (``mass_matrix="auto"`` counts the elements of
        the padded rows and their weights).
    progress_bar : bool
        Show the progress on stderr, each process its own. The same value in every process: it
        runs the loop in 20 calls instead of one, and the processes' calls must match.
    **model_kwargs
        Passed to the model (``prior=``, ``sigma=``, ``fit_intercept=`` ...), the same in every
        process.

    Returns
    -------
    PosteriorFit or None
        In process 0, ``(idata, None, diagnostics, parametrisation, mass_matrix)``; None in the
        others.

    Raises
    ------
    ValueError
        For a model outside `SHARDED_MODELS`, ``laplace_parametrisation="collapsed"``, or a setting
        out of its range.
    TypeError
        When ``data`` is not a `ShardedRows`.

    Warns
    -----
    bayesreg.diagnostics.PosteriorWarning
        In process 0, for each diagnostic past its threshold.

    Examples
    --------
    See the module's example; a launch across processes is in the README ("Across processes and
    hosts").

    >>> from bayesreg.models import linear_regression_stats
    >>> from bayesreg.sharded import fit_sharded_posterior
    >>> fit_sharded_posterior(linear_regression_stats, None)
    Traceback (most recent call last):
    ...
    ValueError: fit_sharded_posterior samples linear_regression or logistic_regression, not ...
    """
    if model not in SHARDED_MODELS:
        names = " or ".join(m.__name__ for m in SHARDED_MODELS)
        raise ValueError(f"fit_sharded_posterior samples {names}, not {getattr(model, '__name__', model)}")
    if not isinstance(data, ShardedRows):
        raise TypeError(f"data must be the ShardedRows that shard_rows returns, not {type(data).__name__}")
    requested = check_param("laplace_parametrisation", laplace_parametrisation)
    if requested == "collapsed":
        raise ValueError(
            "laplace_parametrisation='collapsed' is not available across shards: for the Gaussian "
            "likelihood, its sufficient statistics across the shards are sufficient_stats(data)"
        )
    if target_accept is None:
        target_accept = default_target_accept(model_kwargs.get("prior"))
    if num_warmup is None:
        num_warmup = default_num_warmup(model_kwargs.get("prior"))
    settings = check_params(
        {
            "num_chains": num_chains,
            "num_warmup": num_warmup,
            "num_samples": num_samples,
            "seed": seed,
            "mass_matrix": mass_matrix,
            "target_accept": target_accept,
            "max_tree_depth": max_tree_depth,
        }
    )
    seed = np.asarray(settings.pop("seed"), dtype=np.int64)
    first = jax.process_index() == 0
    settings["progress_bar"] = bool(progress_bar)
    prior = model_kwargs.get("prior")
    laplace = prior is not None and prior.kind == "laplace"
    fit_intercept = bool(model_kwargs.get("fit_intercept", True))

    pre, X, kwargs = None, data.X, dict(model_kwargs)
    if precondition:
        pre = Preconditioning.of(model, (sufficient_stats(data, center=fit_intercept),), model_kwargs)
    with jax.enable_x64(True):
        if pre is not None:
            X, kwargs = (data.X - pre.mean) / pre.scale, pre.model_kwargs(model_kwargs)
        dynamic, static = split_static(as_arrays(kwargs))
        dynamic = jax.device_put(dynamic, NamedSharding(data.mesh, P()))
        sharded = sharded_model(model, data.mesh)

        def chains(mixture: bool) -> Chains:
            run = sample_chains(
                sharded,
                seed,
                (X, data.y, data.weight),
                {**dynamic, **dict(static)},
                laplace_mixture=mixture,
                devices=1,
                **settings,
            )
            draws = {k: np.asarray(v) for k, v in run.draws.items()}
            stats = {k: np.asarray(v) for k, v in run.stats.items()}
            run = run._replace(draws=draws if pre is None else pre.to_original(draws), stats=stats)
            return run

        parametrisation = "mixture" if requested == "mixture" and laplace else "direct"
        run = chains(parametrisation == "mixture")
        if laplace and requested == "auto":
            run = fall_back_to_mixture(run, lambda: chains(True), group_size=settings["num_chains"])
        observed = np.asarray(multihost_utils.process_allgather(data.y, tiled=True))
        weight = np.asarray(multihost_utils.process_allgather(data.weight, tiled=True))
    run.wait()
    if not first:
        return None
    if run.mixture.all():
        parametrisation = "mixture"
    idata = _inference_data(run, observed[weight > 0], data.X.shape[1], feature_names, parametrisation)
    sigma = model_kwargs.get("sigma")
    if sigma is not None and not isinstance(sigma, numpyro.distributions.Distribution):
        idata.posterior.attrs["sigma"] = float(sigma)  # a fixed noise sd is not a posterior variable
    return PosteriorFit(
        idata=idata,
        map=None,
        diagnostics=check_diagnostics(idata, max_tree_depth=settings["max_tree_depth"]),
        parametrisation=parametrisation,
        mass_matrix=str(run.mass_matrix[0]),
    )


def _inference_data(run: Chains, y, num_features: int, feature_names, parametrisation) -> az.InferenceData:
    """The InferenceData of the chains: posterior, sample statistics (ArviZ's names), observed y."""
    import arviz as az

    names = feature_names if feature_names is not None else [f"x{j}" for j in range(num_features)]
    idata = az.from_dict(
        posterior=run.draws,
        sample_stats=arviz_sample_stats(run.stats),
        observed_data={"y": y},
        coords={"feature": [str(name) for name in names], "obs": np.arange(len(y))},
        dims={**{name: ["feature"] for name in FEATURE_SITES}, "y": ["obs"]},
    )
    idata.sample_stats.attrs["mass_matrix"] = str(run.mass_matrix[0])
    idata.sample_stats.attrs["parametrisation"] = parametrisation
    return idata
