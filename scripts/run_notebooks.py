"""Execute notebooks in place, keeping outputs, the way the course ships them.

Usage: python scripts/run_notebooks.py notebooks/02_llm_text_representations.ipynb [...]

Sets PYTEST_CURRENT_TEST so TensorFlow's C++ log lines stay out of the saved outputs (ipykernel
stops capturing fd 2 when it is set), runs each notebook in a fresh kernel from the notebook's own
folder, and prints the wall time of each.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


KERNELSPEC = {"display_name": "Python 3 (translearn)", "language": "python", "name": "python3"}


def run(path: Path, timeout: int = 900) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nb.metadata["kernelspec"] = dict(KERNELSPEC)  # what `make setup` installs: JupyterLab opens it unmodified
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    os.environ.setdefault("PYTEST_CURRENT_TEST", "run_notebooks")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in argv:
        path = Path(name)
        print(f"executing {path} ...", flush=True)
        print(f"  done in {run(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
