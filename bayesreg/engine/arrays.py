"""How model arguments enter a compiled program: float64 arrays, and static settings split off.

A program is compiled once per static arguments and argument shapes (`bayesreg.engine.programs`),
so what varies from one fit to the next (data, penalty strengths, noise levels) must reach it as
arrays, and what selects the model's code (``fit_intercept``, a family name) as static settings.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["as_arrays", "split_static"]


def split_static(kwargs: dict) -> tuple[dict, tuple]:
    """Split model keywords into dynamic values and static settings.

    Parameters
    ----------
    kwargs : dict
        Keyword arguments of a model.

    Returns
    -------
    dynamic : dict
        The entries that are not booleans or strings (arrays, numbers, distributions, priors).
    static : tuple of (str, bool or str)
        The boolean and string entries, sorted by name: hashable, so a program takes them as one
        static argument.

    Examples
    --------
    >>> from bayesreg.engine.arrays import split_static
    >>> dynamic, static = split_static({"sigma": 1.5, "fit_intercept": True, "family": "gaussian"})
    >>> dynamic, static
    ({'sigma': 1.5}, (('family', 'gaussian'), ('fit_intercept', True)))
    """
    static = tuple(sorted((k, v) for k, v in kwargs.items() if isinstance(v, bool | str)))
    dynamic = {k: v for k, v in kwargs.items() if not isinstance(v, bool | str)}
    return dynamic, static


def as_arrays(tree):
    """Every numeric leaf of ``tree`` as a float64 array (booleans and strings stay as they are).

    Host values (Python numbers, NumPy arrays) are converted by NumPy and then put on the device:
    converting them with ``jnp.asarray`` is a JAX operation, which a new process compiles (once per
    shape) before the first fit can start. JAX arrays and tracers are converted by JAX. Call it
    inside ``jax.enable_x64(True)``: otherwise JAX keeps float32.

    Parameters
    ----------
    tree : pytree

    Returns
    -------
    pytree
        The same structure, with float64 arrays as numeric leaves.

    Examples
    --------
    >>> import jax, numpy as np
    >>> from bayesreg.engine.arrays import as_arrays
    >>> with jax.enable_x64(True):
    ...     args = as_arrays({"sigma": 2, "X": np.ones((3, 2), dtype=np.float32), "fit_intercept": True})
    >>> args["sigma"].dtype, args["X"].dtype, args["X"].shape, args["fit_intercept"]
    (dtype('float64'), dtype('float64'), (3, 2), True)
    """

    def as_array(a):
        if isinstance(a, bool | str):
            return a
        if isinstance(a, jax.Array):
            return jnp.asarray(a, dtype=float)
        return jax.device_put(np.asarray(a, dtype=np.float64))

    return jax.tree.map(as_array, tree)
