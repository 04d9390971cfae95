"""Run every cell of examples/*.ipynb, so the example notebooks never rot (nox -s notebook).

Each notebook runs in a fresh ``python3`` kernel (ipykernel) with its own directory,
examples/, as the working directory, each cell within a timeout. The executed copy is
kept in memory only: the repository keeps its notebooks without outputs. On the first
error the cell's source and the error are printed and the exit status is 1.

    python examples/run_notebooks.py [NOTEBOOK...]   # default: every examples/*.ipynb

Needs ``pip install -e '.[notebook]'`` and the corpus images ($ANCHORE_CORPUS).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: seconds one cell may take (analyzing debian-py takes a few)
CELL_TIMEOUT = 600
#: the colour codes of IPython's tracebacks: a CI log shows them as junk
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(path: Path, timeout: int) -> bool:
    """Execute ``path``; True when every cell ran without error."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.monotonic()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        cell = _failed_cell(nb)
        where = f" in cell {cell[0]}" if cell is not None else ""
        print(f"{path.name}: FAILED{where}", file=sys.stderr)
        if cell is not None and not isinstance(exc, CellExecutionError):  # it quotes the cell
            print(f"------------------\n{cell[1]}\n------------------", file=sys.stderr)
        print(ANSI.sub("", str(exc)), file=sys.stderr)  # the traceback, without colours
        return False
    cells = sum(1 for c in nb.cells if c.cell_type == "code")
    print(f"{path.name}: {cells} code cells ran in {time.monotonic() - started:.1f}s")
    return True


def _failed_cell(nb: object) -> tuple[int, str] | None:
    """The first code cell with an error output (or the last one run, on a timeout)."""
    last = None
    for index, cell in enumerate(getattr(nb, "cells", [])):
        if cell.cell_type != "code":
            continue
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return index, cell.source
        if cell.get("execution_count") is not None:
            last = (index, cell.source)
    return last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: examples/*.ipynb")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted(HERE.glob("*.ipynb"))
    if not notebooks:
        print(f"no notebook in {HERE}: nothing was run", file=sys.stderr)
        return 1
    failed = [p.name for p in notebooks if not run(p, args.timeout)]
    if failed:
        print(f"{len(failed)} of {len(notebooks)} notebooks failed: {', '.join(failed)}",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
