"""requirements.txt (used by `make setup`) and environment.yml (conda users) pin the same packages."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_PIN = re.compile(r"^\s*(?:-\s+)?([A-Za-z0-9_.\-\[\]]+)==([^\s#]+)")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        m = _PIN.match(line)
        if m and not line.lstrip().startswith("#"):
            pins[re.sub(r"\[.*\]", "", m.group(1)).lower().replace("_", "-")] = m.group(2)
    return pins


def test_conda_environment_pins_what_requirements_pin():
    req, conda = _pins(ROOT / "requirements.txt"), _pins(ROOT / "environment.yml")
    assert len(req) > 20
    assert req == conda, {k: (req.get(k), conda.get(k)) for k in set(req) ^ set(conda) | {
        k for k in set(req) & set(conda) if req[k] != conda[k]}}


def test_constraints_cover_every_requirement():
    req, cons = _pins(ROOT / "requirements.txt"), _pins(ROOT / "constraints.txt")
    assert {k: v for k, v in req.items() if cons.get(k) != v} == {}
