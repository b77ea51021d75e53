"""The engine: how a model of `bayesreg.models` is inferred, compiled once per shape.

Modules:

- `bayesreg.engine.map`: the MAP by SVI with an AutoDelta guide (`map_estimate`, `map_grid`);
- `bayesreg.engine.proximal`: the proximal Newton optimiser it uses (exact zeros under L1);
- `bayesreg.engine.glm`: the exact MAP of the logistic, Poisson and negative binomial models on the
  host (proximal Newton on the weighted Gram), which `map_estimate` runs for the count models;
- `bayesreg.engine.homotopy`: the lasso path of the linear model, breakpoint to breakpoint;
- `bayesreg.engine.chains`: NUTS chains (the one driver of posteriors, posterior paths and
  simulation-based calibration), the Laplace prior as a scale mixture, and the fallback to it;
- `bayesreg.engine.programs`: how a compiled program is declared, and the export cache that lets a
  second process skip tracing it;
- `bayesreg.engine.arrays`: how model arguments enter a program (float64 arrays, static settings).

Its functions return arrays and result types (`MAPResult`, `Chains`); the posterior functions built
on them, which return InferenceData, are in `bayesreg.sampling`.
"""

from bayesreg.engine.arrays import as_arrays, split_static
from bayesreg.engine.chains import (
    CURVATURE_CONDITION_MAX,
    DENSE_DATA_FRACTION,
    DENSE_UP_TO,
    SMALL_LOOPS_XLA_FLAG,
    Chains,
    LaplaceScaleMixture,
    dense_mass,
    fall_back_to_mixture,
    run_chain,
    sample_chains,
    scale_mixture,
)
from bayesreg.engine.glm import GLM_FAMILIES, GLMMode, glm_map
from bayesreg.engine.homotopy import lasso_path
from bayesreg.engine.map import DeltaELBO, MAPResult, linear_map, map_estimate, map_grid
from bayesreg.engine.programs import (
    EXPORT_SUBFOLDER,
    FAST_COMPILE_CPU,
    Program,
    export_folder,
    exporting,
    fast_compile_options,
    forget_loaded,
    loaded_programs,
    program,
    program_name,
)
from bayesreg.engine.proximal import ProximalNewton, kkt_residual, minimise_quadratic_l1, soft_threshold

__all__ = [
    # the MAP
    "DeltaELBO",
    "MAPResult",
    "linear_map",
    "map_estimate",
    "map_grid",
    "GLM_FAMILIES",
    "GLMMode",
    "glm_map",
    # the proximal Newton optimiser and its pieces
    "ProximalNewton",
    "kkt_residual",
    "minimise_quadratic_l1",
    "soft_threshold",
    # the lasso path by homotopy
    "lasso_path",
    # NUTS chains
    "Chains",
    "run_chain",
    "sample_chains",
    # the Laplace prior as a scale mixture, and the fallback to it
    "LaplaceScaleMixture",
    "fall_back_to_mixture",
    "scale_mixture",
    # NUTS settings: the mass matrix and the start from a mode
    "CURVATURE_CONDITION_MAX",
    "DENSE_DATA_FRACTION",
    "DENSE_UP_TO",
    "dense_mass",
    "SMALL_LOOPS_XLA_FLAG",
    # compiled programs and the export cache
    "EXPORT_SUBFOLDER",
    "FAST_COMPILE_CPU",
    "Program",
    "export_folder",
    "exporting",
    "fast_compile_options",
    "forget_loaded",
    "loaded_programs",
    "program",
    "program_name",
    # model arguments into programs
    "as_arrays",
    "split_static",
]
