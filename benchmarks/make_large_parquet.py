"""Write issue 16's large data set: ``--rows`` × ``--features`` Gaussian regression rows as Parquet
files, generated in chunks so that memory holds one chunk (not the data).

Columns ``x0 … x{p-1}``: standard normal, each shifted and scaled as users' units are (means up to
1e4, sds 10^k for k from -2 to 3); target ``y``: half of the standardised columns with weight 1, the
others 0, plus unit noise; with ``--family bernoulli`` a 0/1 target instead, drawn with the log-odds
0.3 times that sum (without the noise), with ``--family poisson`` a count drawn with the log mean 0.1
times that sum. One file per ``--rows-per-file`` rows (one row group each
per chunk).

    python benchmarks/make_large_parquet.py --out data/large                     # 10^7 × 50
    python benchmarks/make_large_parquet.py --out data/medium --rows 1000000
    python benchmarks/make_large_parquet.py --out data/binary --rows 1000000 --family bernoulli
    python benchmarks/make_large_parquet.py --out data/counts --rows 1000000 --family poisson
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK = 250_000
ROW_GROUP_BYTES = 2**26
"""At most this many bytes per row group: a Dask worker reading one needs about 5× its size."""


def columns(p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each column's mean and sd (users' units), and the weights of the standardised columns."""
    rng = np.random.default_rng(12345)
    means = rng.uniform(-1e4, 1e4, size=p)
    sds = 10.0 ** np.linspace(-2, 3, p)
    weights = np.where(np.arange(p) % 2 == 0, 1.0, 0.0)
    return means, sds, weights


LOGISTIC_SCALE = 0.3  # the log-odds of the bernoulli target: this times the standardised columns' sum
POISSON_SCALE = 0.1  # the log mean of the poisson target: this times the standardised columns' sum


def write(
    out: Path, rows: int, p: int, rows_per_file: int, seed: int = 0, family: str = "gaussian"
) -> list[Path]:
    """Write the files; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    means, sds, weights = columns(p)
    rng = np.random.default_rng(seed)
    names = [f"x{j}" for j in range(p)] + ["y"]
    written, done = [], 0
    while done < rows:
        path = out / f"part-{len(written):04d}.parquet"
        in_file = min(rows_per_file, rows - done)
        writer = None
        chunk = min(CHUNK, max(1, ROW_GROUP_BYTES // (8 * (p + 1))))  # one row group each
        for start in range(0, in_file, chunk):
            m = min(chunk, in_file - start)
            z = rng.standard_normal((m, p))
            if family == "bernoulli":
                odds = LOGISTIC_SCALE * (z @ weights)
                y = (rng.uniform(size=m) < 1.0 / (1.0 + np.exp(-odds))).astype(np.int64)
            elif family == "poisson":
                y = rng.poisson(np.exp(POISSON_SCALE * (z @ weights)))
            else:
                y = z @ weights + rng.standard_normal(m)
            table = pa.table(dict(zip(names, [*(means + sds * z).T, y], strict=True)))
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
        writer.close()
        written.append(path)
        done += in_file
    return written


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--rows-per-file", type=int, default=1_000_000)
    parser.add_argument("--family", choices=("gaussian", "bernoulli", "poisson"), default="gaussian")
    args = parser.parse_args()
    files = write(args.out, args.rows, args.features, args.rows_per_file, family=args.family)
    size = sum(path.stat().st_size for path in files)
    print(f"wrote {len(files)} files, {args.rows} rows x {args.features} features, {size / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
