"""The chains' first state as `start_chains` sets it up (before any step), for the tests of the start
(tests/engine/test_chains_start.py: from a mode) and of the mass matrix "auto" adapts
(tests/engine/test_chains.py)."""

import jax
import numpy as np

from bayesreg.engine.arrays import as_arrays, split_static
from bayesreg.engine.chains import start_chains


def first_state(model, args, kwargs, modes=None, *, num_chains=1, mass_matrix="auto"):
    """`start_chains`'s state of ``model(*args, **kwargs)`` (seed 0, 10 warmup steps and 5 draws
    announced, one device), from ``modes`` when given, with the arrays it was given (float64):
    ``(state, args, dynamic)``, ``dynamic`` the kwargs that are arrays."""
    dynamic, static = split_static(kwargs)
    with jax.enable_x64(True):
        args, dynamic, modes = as_arrays((args, dynamic, modes))
        state, _ = start_chains(
            model,
            static,
            np.int64(0),
            args,
            dynamic,
            {},
            modes,
            num_warmup=10,
            num_samples=5,
            num_chains=num_chains,
            mass_matrix=mass_matrix,
            devices=1,
        )
    return state, args, dynamic
