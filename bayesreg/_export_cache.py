"""Traced and lowered programs kept on disk (``jax.export``), so a second process skips the tracing.

JAX's persistent compilation cache skips XLA's compilation in a second process, but JAX still traces
the Python function and lowers it to StableHLO to compute the cache key: for the NUTS sampler that was
most of a second ``bayesreg fit --method nuts`` (issue 3). `call` serializes the traced and lowered
program with `jax.export` the first time and deserializes it afterwards; the deserialized program is
then compiled, which the persistent cache serves.

The exported programs are written only while caching is switched on: inside `enabled` (a folder), or
else when JAX's persistent compilation cache is (``jax_compilation_cache_dir``: what the ``bayesreg``
command line sets for the duration of a command), in its subfolder ``bayesreg-export``. Otherwise
`call` is the plain jitted call and nothing is written.

A file is keyed by the program's name, its static settings, the structure, shapes and dtypes of its
arguments, the float64 flag, the platform and device count, the versions of jax, jaxlib and numpyro,
and a hash of bayesreg's own source files (an edited model never meets a stale program). A missing,
unreadable, corrupt or mismatching file, or a JAX that cannot serialize (the ``flatbuffers``
package is missing), makes `call` trace as usual; a file it cannot write is skipped.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import os
import tempfile
import types
from pathlib import Path

import jax
from numpyro.distributions import Distribution

__all__ = ["call", "enabled", "folder", "program_name"]

FORMAT = 1  # bump when the key or the calling convention changes
SUBFOLDER = "bayesreg-export"

_folder: list[Path | None] = [None]
_loaded: dict[str, object] = {}  # file -> jitted call of its (de)serialized program, in this process
_failed: set[str] = set()  # files whose program could not be exported, in this process


@contextlib.contextmanager
def enabled(path):
    """Keep exported programs in ``path`` while the block runs (whatever JAX's own cache setting)."""
    previous = _folder[0]
    _folder[0] = Path(path)
    try:
        yield
    finally:
        _folder[0] = previous


def folder() -> Path | None:
    """The folder of exported programs now, or None when caching is off."""
    if _folder[0] is not None:
        return _folder[0]
    jax_cache = jax.config.jax_compilation_cache_dir
    if jax_cache:
        return Path(jax_cache) / SUBFOLDER
    return None


def program_name(fn) -> str | None:
    """A name that identifies ``fn`` across processes, for bayesreg's own functions only (their code
    is in the key through the source hash); None for anything else, which is then never exported."""
    if isinstance(fn, types.FunctionType) and fn.__module__.startswith("bayesreg."):
        return f"{fn.__module__}.{fn.__qualname__}"
    return None


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
        for source in sorted(root.glob("*.py")):
            digest.update(source.name.encode())
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


def call(name: str, static, fun, args: tuple, traced, *, compiler_options: dict | None = None):
    """``fun(*args)``, traced once per key and kept on disk while caching is on.

    Parameters
    ----------
    name : str
        The program's name in the key and the file name (a stable, importable name: the key does
        not see the function's code beyond bayesreg's own sources).
    static : hashable
        The static settings bound into ``fun`` (part of the key; their ``repr`` must be stable
        across processes).
    fun : callable
        A pure function of ``*args`` (pytrees of arrays) with every static setting bound.
    args : tuple
        The arguments: pytrees whose leaves are arrays (NumPy or JAX; anything else, such as a
        Python float, makes `call` take the traced path).
    traced : callable
        ``traced()`` gives the same value through the usual jitted path: used when caching is off
        and whenever the exported path cannot be used.
    compiler_options : dict, optional
        XLA options of the compilation of the exported program (those of the traced path's
        ``jax.jit``, so that both compile alike).

    Returns
    -------
    The value of ``fun(*args)``: bitwise the same whether the program was traced in this process,
    exported here, or loaded from the folder (tested).
    """
    where = folder()
    if where is None:
        return traced()
    leaves, treedef = jax.tree.flatten(_encode(args))
    if not all(hasattr(leaf, "shape") and hasattr(leaf, "dtype") for leaf in leaves):
        return traced()
    path = where / f"{name}-{_key(name, static, treedef, leaves)}.jaxexport"
    run = _loaded.get(str(path))
    if run is None:
        if str(path) in _failed:
            return traced()
        exported = _load(path, leaves)
        if exported is None:

            def flat(*leaves):
                return fun(*_decode(jax.tree.unflatten(treedef, leaves)))

            try:
                exported = jax.export.export(jax.jit(flat))(*leaves)
            except Exception:  # a program JAX cannot export (e.g. a host callback): plain jit
                _failed.add(str(path))
                return traced()
            _save(path, exported)
        run = _loaded[str(path)] = jax.jit(exported.call, compiler_options=compiler_options)
    return run(*leaves)
