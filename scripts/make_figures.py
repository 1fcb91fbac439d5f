"""Copy the README's figures out of the executed notebooks into docs/figures/ (`make figures`).

The figures are the notebooks' own stored outputs, so the front page always shows what a learner
sees after running the chapter. A figure is found by a piece of its cell's source; if the cell is
gone or has no image, the script says which one and stops.

    python scripts/make_figures.py          # write docs/figures/*.png
    python scripts/make_figures.py --check  # fail if a stored figure differs from the notebook's
"""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "figures"

# (file in docs/figures, notebook, a piece of the source of the cell that draws it)
FIGURES = [
    ("01_learning_curve.png", "notebooks/01_transfer_basics.ipynb", "plots.plot_learning_curve(curve, \"accuracy\""),
    ("04_cross_domain_curves.png", "notebooks/04_cross_domain_recommendation.ipynb",
     "curve = crossdomain.learning_curve(task, strategies, SHARES"),
]


def figure_bytes(notebook: str, marker: str) -> bytes:
    nb = nbformat.read(ROOT / notebook, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and marker in c.source]
    if len(cells) != 1:
        raise SystemExit(f"{notebook}: expected one code cell containing {marker!r}, found {len(cells)}; "
                         "update FIGURES in scripts/make_figures.py")
    images = [o["data"]["image/png"] for o in cells[0].outputs if "image/png" in o.get("data", {})]
    if not images:
        raise SystemExit(f"{notebook}: the cell containing {marker!r} has no stored figure; run `make course`")
    return base64.b64decode(images[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    stale = []
    for name, notebook, marker in FIGURES:
        data, target = figure_bytes(notebook, marker), OUT / name
        if args.check:
            if not target.exists() or target.read_bytes() != data:
                stale.append(name)
        else:
            target.write_bytes(data)
            print(f"wrote {target.relative_to(ROOT)} ({len(data) // 1024} kB) from {notebook}")
    if stale:
        print(f"stale figures (run `make figures`): {stale}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
