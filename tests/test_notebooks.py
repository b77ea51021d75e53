"""Notebooks 01–04 run top to bottom in a fresh kernel of this interpreter, without errors, and with
them the cells (starting ``# checked``) that assert the numbers each notebook states.

Each notebook is executed with nbclient in a temporary working directory. The kernel is named
"python3", and its spec is written for this test into a temporary directory put first on
``JUPYTER_PATH``, with ``argv[0] = sys.executable``: so the kernel is the Python running the tests
(the venv with bayesreg), never a "python3" kernelspec of the user or the system. A cell appended to
each notebook prints the kernel's ``sys.executable`` and ``ipykernel.__file__`` and the test checks
them against this process's. The notebooks are committed without outputs (checked too).

Budget: each notebook should run in about 2 minutes on 2 cores (its time is printed with ``-s``); the
assertion allows twice that, for loaded CI machines, so that it only catches a notebook that has grown
out of its "small settings".
"""

import json
import sys
import time
from pathlib import Path

import ipykernel
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["01_l2", "02_l1", "03_map_is_a_penalty", "04_what_the_map_leaves_out"]
BUDGET_S = 240.0

PROBE = "import sys, ipykernel\nprint(sys.executable)\nprint(ipykernel.__file__)"


@pytest.fixture(scope="module")
def this_python_kernel(tmp_path_factory):
    """A "python3" kernelspec running ``sys.executable``, first on JUPYTER_PATH for this module."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (bayesreg tests)",
                "language": "python",
            }
        )
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(root))
        patch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        yield root


@pytest.mark.parametrize("name", NAMES)
def test_notebook_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert len(code) >= 5 and sum(cell.cell_type == "markdown" for cell in nb.cells) >= 5
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, f"{name}: a cell has outputs"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_asserts_its_numbers(name):
    """Each notebook checks the numbers it states in cells of plain ``assert`` statements with a
    message, so that executing it (next test) fails when one of them is wrong."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    checks = [cell for cell in nb.cells if cell.cell_type == "code" and cell.source.startswith("# checked")]
    assert len(checks) >= 4, f"{name}: {len(checks)} cells of checks"
    assert all("assert " in cell.source for cell in checks), f"{name}: a check cell without an assert"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name, this_python_kernel, tmp_path):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=600,
        allow_errors=False,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first failing cell
    elapsed = time.perf_counter() - start
    print(f"\n{name}: {elapsed:.1f} s")

    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    figures = [out for out in outputs if "image/png" in out.get("data", {})]
    assert figures, f"{name}: no figure was drawn"
    probe = "".join(out.get("text", "") for out in nb.cells[-1].outputs).split()
    assert Path(probe[0]).resolve() == Path(sys.executable).resolve(), probe
    assert Path(probe[1]).resolve() == Path(ipykernel.__file__).resolve(), probe
    assert elapsed < BUDGET_S, f"{name} took {elapsed:.0f} s (budget about {BUDGET_S / 2:.0f} s)"
