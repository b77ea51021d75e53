"""Compiled programs: each declared once, jitted, and kept on disk by ``jax.export`` while caching is on.

`program` declares a compiled program from a pure function and its static arguments: calling the
`Program` it returns calls the function jitted (``jax.jit`` with those static argument names and,
for a program declared ``fast_compile``, `fast_compile_options`). While the export cache is on, the
call goes instead through the function's traced and lowered program, serialized with
``jax.export`` the first time and deserialized afterwards, so a second process skips tracing and
lowering it; JAX's persistent compilation cache then serves its compilation.

JAX's persistent compilation cache skips XLA's compilation in a second process, but JAX still traces
the Python function and lowers it to StableHLO to compute that cache's key: for the NUTS sampler
that is most of a second ``bayesreg fit --method nuts`` without the export cache, which removes
that part.

The cache is on inside `exporting` (a folder), or else while JAX's persistent compilation cache is
(``jax_compilation_cache_dir``: what the ``bayesreg`` command line sets for the duration of a
command), in its subfolder `EXPORT_SUBFOLDER`. Otherwise a program is its plain jitted call and
nothing is written.

A file is keyed by the program's name, the name of its model (only bayesreg's own models and
programs are exported: their code is in the key through the source hash), its other static
arguments, the structure, shapes and dtypes of its dynamic arguments, the float64 flag, the platform
and device count, the versions of jax, jaxlib and numpyro, and a hash of every source file of
bayesreg (``bayesreg/**/*.py`` and the models), so an edited model or engine never meets a stale
program. A missing, unreadable, corrupt or mismatching file, or a JAX that cannot serialize (the
``flatbuffers`` package is missing), makes the call trace as usual; a file it cannot write is
skipped.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import inspect
import os
import tempfile
import types
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import jax
from numpyro.distributions import Distribution

__all__ = [
    # declaring a program
    "Program",
    "program",
    "program_name",
    # compiler options
    "FAST_COMPILE_CPU",
    "fast_compile_options",
    # the export cache
    "EXPORT_SUBFOLDER",
    "export_folder",
    "exporting",
    "forget_loaded",
    "loaded_programs",
]

FORMAT = 2  # bump when the key or the calling convention changes
EXPORT_SUBFOLDER = "bayesreg-export"
"""The export cache's folder inside JAX's persistent compilation cache folder."""

# On a CPU, XLA's LLVM optimisation and its newer fusion emitters take most of a small program's first
# call: without them the n=20000, p=200 lasso solver compiled in 0.5 s of CPU instead of 2.6 s, and
# its coordinate descent ran at about half speed (a solve of that lasso 12 ms instead of 5 ms).
FAST_COMPILE_CPU = {"xla_backend_optimization_level": 0, "xla_cpu_use_fusion_emitters": False}
"""XLA options that trade run time for compile time on a CPU (programs declared ``fast_compile``)."""

_folder: list[Path | None] = [None]
_loaded: dict[str, Callable] = {}  # file -> jitted call of its (de)serialized program, in this process
_failed: set[str] = set()  # files whose program could not be exported, in this process


@functools.cache
def fast_compile_options() -> dict:
    """`FAST_COMPILE_CPU` on a CPU whose XLA knows those options; none elsewhere.

    Decided at the first call (the backend must be known), once per process.

    Examples
    --------
    >>> import jax
    >>> from bayesreg.engine.programs import FAST_COMPILE_CPU, fast_compile_options
    >>> options = fast_compile_options()
    >>> options in ({}, FAST_COMPILE_CPU), bool(options) <= (jax.default_backend() == "cpu")
    (True, True)
    """
    if jax.default_backend() != "cpu":
        return {}
    try:
        jax.jit(lambda x: x + 1.0, compiler_options=FAST_COMPILE_CPU).lower(0.0).compile()
    except jax.errors.JaxRuntimeError:  # an XLA that has renamed or dropped them
        return {}
    return FAST_COMPILE_CPU


@contextlib.contextmanager
def exporting(path) -> Iterator[None]:
    """Keep exported programs in ``path`` while the block runs (whatever JAX's own cache setting).

    Examples
    --------
    A program called inside the block with array arguments is exported to the folder (one file per
    program, static arguments and argument shapes) and loaded from it by the calls after:

    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from bayesreg.engine.programs import exporting, program
    >>> @program("doc-cube", model_argname=None)
    ... def cube(x):
    ...     return x**3
    >>> with tempfile.TemporaryDirectory() as folder, exporting(folder):
    ...     values = [float(cube(np.float64(2.0))), float(cube(np.float64(3.0)))]
    ...     files = [path.name.startswith("doc-cube-") for path in pathlib.Path(folder).iterdir()]
    >>> values, files
    ([8.0, 27.0], [True])
    """
    previous = _folder[0]
    _folder[0] = Path(path)
    try:
        yield
    finally:
        _folder[0] = previous


def export_folder() -> Path | None:
    """The folder of exported programs now, or None when the export cache is off.

    Examples
    --------
    >>> from pathlib import Path
    >>> from bayesreg.engine.programs import export_folder, exporting
    >>> with exporting("/tmp/bayesreg-doc"):
    ...     export_folder()
    PosixPath('/tmp/bayesreg-doc')
    """
    if _folder[0] is not None:
        return _folder[0]
    jax_cache = jax.config.jax_compilation_cache_dir
    if jax_cache:
        return Path(jax_cache) / EXPORT_SUBFOLDER
    return None


def loaded_programs() -> list[str]:
    """Paths of the exported programs this process has exported or loaded (and keeps jitted).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from bayesreg.engine.programs import exporting, forget_loaded, loaded_programs, program
    >>> @program("doc-double", model_argname=None)
    ... def double(x):
    ...     return 2 * x
    >>> with tempfile.TemporaryDirectory() as folder, exporting(folder):
    ...     _ = double(np.ones(3))
    ...     mine = [path for path in loaded_programs() if path.startswith(folder)]
    >>> len(mine), "doc-double-" in mine[0]
    (1, True)
    >>> forget_loaded()
    """
    return list(_loaded)


def forget_loaded() -> None:
    """Drop this process's exported or loaded programs: the next calls read the folder again.

    Examples
    --------
    >>> from bayesreg.engine.programs import forget_loaded, loaded_programs
    >>> forget_loaded()
    >>> loaded_programs()
    []
    """
    _loaded.clear()


def program_name(fn) -> str | None:
    """A name that identifies ``fn`` across processes, for bayesreg's own functions only (their code
    is in the key through the source hash); None for anything else, which is then never exported.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.engine.programs import program_name
    >>> from bayesreg.models import linear_regression
    >>> program_name(linear_regression), program_name(np.sum)
    ('bayesreg.models.linear.linear_regression', None)
    """
    if isinstance(fn, types.FunctionType) and fn.__module__.startswith("bayesreg."):
        return f"{fn.__module__}.{fn.__qualname__}"
    return None


class Program:
    """A pure function compiled once per static arguments and argument shapes; see `program`.

    Calling it is calling ``fun`` jitted, or its exported program while the export cache is on: the
    same values, bitwise.

    Attributes
    ----------
    fun : callable
        The function as written (traceable: call it inside another program to inline it).
    name : str
        The program's name in the export cache's file names and keys.
    static_argnames : tuple of str
        The arguments that are compile-time constants (hashable; their ``repr`` must be stable
        across processes, except the model's, which is named by `program_name`).
    model_argname : str or None
        The static argument holding the model, whose name joins the file name; a program of
        another package's model is never exported. None: the program has no model.
    fast_compile : bool
        Compile with `fast_compile_options` (programs that run briefly, once per fit).

    Examples
    --------
    `program` makes one from a function; it compiles once per static arguments and shapes, and
    `fun` is the function itself, to call inside another program:

    >>> from bayesreg.engine.programs import Program, program
    >>> @program("doc-power", static_argnames=("power",), model_argname=None)
    ... def power(x, *, power):
    ...     return x**power
    >>> isinstance(power, Program), power.name, power.static_argnames
    (True, 'doc-power', ('power',))
    >>> float(power(3.0, power=2)), float(power(4.0, power=2)), power.cache_size()
    (9.0, 16.0, 1)
    >>> power.fun(3.0, power=3)
    27.0
    """

    def __init__(
        self,
        fun: Callable,
        *,
        name: str,
        static_argnames: Sequence[str],
        model_argname: str | None = "model",
        fast_compile: bool = False,
    ):
        self.fun = fun
        self.name = name
        self.static_argnames = tuple(static_argnames)
        self.model_argname = model_argname
        self.fast_compile = fast_compile
        self._signature = inspect.signature(fun)
        functools.update_wrapper(self, fun)

    @functools.cached_property
    def jitted(self):
        """``jax.jit`` of `fun` (built at the first call, once the backend is known)."""
        return jax.jit(self.fun, static_argnames=self.static_argnames, compiler_options=self.compiler_options)

    def cache_size(self) -> int:
        """Programs compiled so far by the jitted path (one per static arguments and shapes)."""
        return self.jitted._cache_size()

    def lower(self, *args, **kwargs):
        """The jitted function's ``lower``: its StableHLO for these arguments."""
        return self.jitted.lower(*args, **kwargs)

    def __call__(self, *args, **kwargs):
        where = export_folder()
        if where is None:
            return self.jitted(*args, **kwargs)
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        static = {k: v for k, v in bound.arguments.items() if k in self.static_argnames}
        dynamic = {k: v for k, v in bound.arguments.items() if k not in self.static_argnames}
        name = self.name
        if self.model_argname is not None:
            model = program_name(static[self.model_argname])
            if model is None:
                return self.jitted(*args, **kwargs)
            name = f"{name}-{model}"
        settings = tuple(sorted((k, v) for k, v in static.items() if k != self.model_argname))

        def fun(*values):
            return self.fun(**static, **dict(zip(dynamic, values, strict=True)))

        run = _exported(where, name, settings, fun, tuple(dynamic.values()), self.compiler_options)
        if run is None:
            return self.jitted(*args, **kwargs)
        return run()

    @property
    def compiler_options(self) -> dict | None:
        """The XLA options the program compiles with (`fast_compile_options` or XLA's defaults)."""
        return fast_compile_options() if self.fast_compile else None


def program(
    name: str,
    *,
    static_argnames: Sequence[str] = (),
    model_argname: str | None = "model",
    fast_compile: bool = False,
) -> Callable[[Callable], Program]:
    """Declare a compiled program: ``@program("nuts-start", static_argnames=(...))`` over a function.

    Parameters
    ----------
    name : str
        The program's name in the export cache (a stable name: the key does not see the function's
        code beyond bayesreg's own sources).
    static_argnames : sequence of str
        Arguments that are compile-time constants, as for ``jax.jit``.
    model_argname : str or None
        The static argument that holds the model (its name is part of the file name, and a model
        from outside bayesreg is never exported), or None for a program without a model.
    fast_compile : bool
        Compile with `fast_compile_options` on a CPU: for programs that run for milliseconds once
        per fit, whose compilation is what counts.

    Returns
    -------
    callable
        A decorator that turns the function into a `Program`.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.engine.programs import program
    >>> @program("doc-scale", static_argnames=("model",))
    ... def scale(model, x):
    ...     return model(x)
    >>> float(scale(np.sum, np.arange(4.0))), scale.fast_compile, scale.compiler_options is None
    (6.0, False, True)
    """

    def declare(fun: Callable) -> Program:
        return Program(
            fun,
            name=name,
            static_argnames=static_argnames,
            model_argname=model_argname,
            fast_compile=fast_compile,
        )

    return declare


@functools.cache
def _environment() -> str:
    versions = []
    for package in ("jax", "jaxlib", "numpyro"):
        try:
            versions.append(f"{package}={importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package}=?")
    digest = hashlib.sha256()
    import bayesreg
    import bayesreg.models

    for root in sorted({Path(bayesreg.__file__).parent, Path(bayesreg.models.__file__).parent}):
        for source in sorted(root.rglob("*.py")):
            digest.update(source.relative_to(root).as_posix().encode())
            digest.update(source.read_bytes())
    return ";".join(versions) + ";bayesreg-source=" + digest.hexdigest()


class _Dist:
    """A numpyro distribution as a pytree whose leaf order does not depend on the hash seed.

    numpyro flattens a distribution in the order of a ``set`` of field names, which changes with
    ``PYTHONHASHSEED``: from one process to the next the same distribution gives its leaves in
    another order under a tree structure that prints the same. Here the fields are a dict (leaves
    in sorted-name order) and the aux fields a sorted tuple, so structure and order are canonical.
    """

    def __init__(self, cls, aux, data):
        self.cls, self.aux, self.data = cls, aux, data


jax.tree_util.register_pytree_node(
    _Dist,
    lambda d: ((d.data,), (d.cls, d.aux)),
    lambda meta, children: _Dist(meta[0], meta[1], children[0]),
)


def _is_dist(x) -> bool:
    return isinstance(x, Distribution)


def _encode(tree):
    def encode(x):
        if not isinstance(x, Distribution):
            return x
        cls = type(x)
        data, aux = x.tree_flatten()
        data = dict(zip(cls.gather_pytree_data_fields(), data, strict=True))
        aux = tuple(sorted(zip(cls.gather_pytree_aux_fields(), aux, strict=True), key=lambda kv: kv[0]))
        return _Dist(cls, aux, {k: _encode(v) for k, v in data.items()})

    return jax.tree.map(encode, tree, is_leaf=_is_dist)


def _decode(tree):
    def decode(x):
        if not isinstance(x, _Dist):
            return x
        aux = dict(x.aux)
        return x.cls.tree_unflatten(
            tuple(aux[k] for k in x.cls.gather_pytree_aux_fields()),
            tuple(_decode(x.data[k]) for k in x.cls.gather_pytree_data_fields()),
        )

    return jax.tree.map(decode, tree, is_leaf=lambda x: isinstance(x, _Dist))


def _key(name: str, static, treedef, leaves) -> str:
    avals = [(tuple(leaf.shape), str(leaf.dtype)) for leaf in leaves]
    text = repr(
        (
            FORMAT,
            name,
            static,
            str(treedef),
            avals,
            bool(jax.config.jax_enable_x64),
            jax.default_backend(),
            jax.local_device_count(),
            _environment(),
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _load(path: Path, leaves):
    try:
        exported = jax.export.deserialize(bytearray(path.read_bytes()))
    except Exception:  # missing, unreadable, truncated or from another JAX: trace instead
        return None
    expected = [(tuple(leaf.shape), leaf.dtype) for leaf in leaves]
    if [(tuple(a.shape), a.dtype) for a in exported.in_avals] != expected:
        return None
    return exported


def _save(path: Path, exported) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".jaxexport")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(exported.serialize())
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except Exception:  # read-only or full folder, no flatbuffers: the next run traces again
        return


def _exported(where: Path, name: str, static, fun, args: tuple, compiler_options) -> Callable | None:
    """A call of ``fun(*args)`` through its program exported in ``where`` (exported now if the file
    is missing or unusable), or None when it cannot be (a leaf that is not an array, a program JAX
    cannot export): the caller then takes the jitted path."""
    leaves, treedef = jax.tree.flatten(_encode(args))
    if not all(hasattr(leaf, "shape") and hasattr(leaf, "dtype") for leaf in leaves):
        return None
    path = where / f"{name}-{_key(name, static, treedef, leaves)}.jaxexport"
    run = _loaded.get(str(path))
    if run is None:
        if str(path) in _failed:
            return None
        exported = _load(path, leaves)
        if exported is None:

            def flat(*leaves):
                return fun(*_decode(jax.tree.unflatten(treedef, leaves)))

            try:
                exported = jax.export.export(jax.jit(flat))(*leaves)
            except Exception:  # a program JAX cannot export (e.g. a host callback): plain jit
                _failed.add(str(path))
                return None
            _save(path, exported)
        run = _loaded[str(path)] = jax.jit(exported.call, compiler_options=compiler_options)
    return functools.partial(run, *leaves)
