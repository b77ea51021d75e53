"""The data set the benchmarks share: AR(1)-correlated features, a sparse linear truth."""

import numpy as np


def make_data(n: int, p: int, rho: float, seed: int = 0):
    """AR(1) features (unit variance, corr ρ^|i−j|), half the weights non-zero, unit noise."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n, p))
    X = np.empty((n, p))
    X[:, 0] = noise[:, 0]
    scale = np.sqrt(1.0 - rho**2)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + scale * noise[:, j]
    coef = np.zeros(p)
    support = rng.choice(p, p // 2, replace=False)
    coef[support] = rng.standard_normal(p // 2) * np.exp(-np.arange(p // 2) / 20.0)
    y = 1.5 + X @ coef + rng.standard_normal(n)
    return X, y, coef
