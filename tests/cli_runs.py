"""The command line as the CLI tests run it: in this process, with its output captured (its JAX cache
in a temporary folder is conftest.py's ``cache_home``)."""

import contextlib
import io

from bayesreg.cli import main


def run(argv) -> tuple[int, str, str]:
    """``main(argv)`` with its stdout and stderr (for module-scoped fixtures, where capsys is not)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(argv)
    return code, stdout.getvalue(), stderr.getvalue()
