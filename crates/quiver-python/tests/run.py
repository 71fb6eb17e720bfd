#!/usr/bin/env python3
"""Builds the wheel and runs the Python tests of quiver-python (a step of `cargo xtask test`).

    python3 crates/quiver-python/tests/run.py [pytest args…]

1. a venv in target/quiver-python/venv with pinned maturin, neo4j, pytest and hypothesis;
2. `maturin build --release` of the crate into target/quiver-python/wheels, installed in the venv
   next to `neo4j==6.4.1` (so the driver finds `neo4j._rust`);
3. pytest on this folder: interface and differential tests, and the end-to-end tests, which need
   NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD (set by `cargo xtask test`).
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CRATE = TESTS.parent
REPO = CRATE.parent.parent
WORK = REPO / "target" / "quiver-python"
VENV = WORK / "venv"
WHEELS = WORK / "wheels"
PYTHON = VENV / "bin" / "python"

# Pinned: the driver version whose private `neo4j._rust` interface this crate implements, and the
# tools the tests were written against.
REQUIREMENTS = ["maturin==1.16.0", "neo4j==6.4.1", "pytest==9.2.0", "hypothesis==6.170.15"]


def run(*command, **kwargs):
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], check=True, **kwargs)


def main():
    started = time.monotonic()
    if not PYTHON.exists():
        run(sys.executable, "-m", "venv", VENV)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS)

    shutil.rmtree(WHEELS, ignore_errors=True)
    run(
        VENV / "bin" / "maturin", "build", "--release", "--quiet",
        "--manifest-path", CRATE / "Cargo.toml", "--interpreter", PYTHON, "--out", WHEELS,
    )
    (wheel,) = WHEELS.glob("*.whl")
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--force-reinstall", "--no-deps", wheel)
    built = time.monotonic()
    print(f"quiver-python: wheel built and installed in {built - started:.0f} s", flush=True)

    tests = subprocess.run(
        [str(PYTHON), "-m", "pytest", "-p", "no:cacheprovider", "-q", *sys.argv[1:]],
        cwd=TESTS,
    )
    print(f"quiver-python: tests ran in {time.monotonic() - built:.0f} s", flush=True)
    return tests.returncode


if __name__ == "__main__":
    sys.exit(main())
