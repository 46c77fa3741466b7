"""Write environment.yml (conda) from requirements.lock (pip) so the two list the same pins.

Usage: python scripts/sync_environment.py [--check]
With --check, exit 1 if environment.yml differs from what would be written.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def read_lock(path: Path = ROOT / "requirements.lock") -> list[str]:
    pins = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pins.append(line)
    return pins


def render(pins: list[str]) -> str:
    lines = [
        "# Conda environment for Engagement Toolkit. Generated from requirements.lock by",
        "# scripts/sync_environment.py; tests/test_repository.py fails if the two drift apart.",
        "name: engagement-toolkit",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        "  - python=3.11",
        "  - pip",
        "  - pip:",
    ]
    lines += [f"      - {pin}" for pin in pins]
    lines.append("      - -e .")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render(read_lock())
    target = ROOT / "environment.yml"
    if "--check" in argv:
        if not target.exists() or target.read_text() != text:
            print("environment.yml is out of step with requirements.lock; run scripts/sync_environment.py")
            return 1
        return 0
    target.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
