#!/usr/bin/env python3
"""Set up a local virtual environment and run relmark's main job or its checks.

    python3 dev.py demo    # the main job: `relmark demo` on the embedded CDNOW data
    python3 dev.py test    # the full check suite: ruff, mypy --strict, pytest, mkdocs --strict

Each command creates ``.venv`` beside this file on first use and (re)installs the project from
its own ``pyproject.toml`` whenever that file changes, so nothing needs installing by hand.
Only the Python standard library is used here; Python 3.11 or newer is required.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")

EXTRAS = {"demo": "cli,plot", "test": "dev"}


def run(*args: str | Path) -> None:
    """Echo and run one command in the repository root; fail on a non-zero exit."""
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


def ensure_env(extras: str) -> None:
    """Create .venv if needed and install the project with ``extras`` when pyproject.toml changed."""
    # Kept although pyproject requires 3.11: this script is what a newcomer runs first, so an old
    # interpreter must get this sentence rather than a pip resolver error.
    if sys.version_info < (3, 11):  # noqa: UP036
        sys.exit(f"relmark needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    ready = VENV / ".relmark-venv-ready"
    if not ready.exists():
        # A missing marker means no environment or a half-made one (an earlier run stopped at
        # ensurepip or at the pip upgrade): start again from an empty folder.
        print(f"Creating virtual environment in {VENV}", flush=True)
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        except subprocess.CalledProcessError:
            sys.exit(
                "Could not create a virtual environment with pip. On Debian or Ubuntu, install "
                "the venv module first: sudo apt-get install python3-venv"
            )
        run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        ready.write_text("ok\n")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / f".relmark-installed-{extras.replace(',', '-')}"
    if not stamp.exists() or stamp.read_text() != digest:
        run(PY, "-m", "pip", "install", "--quiet", "-e", f".[{extras}]")
        stamp.write_text(digest)


def demo(args: list[str]) -> None:
    """Run the main job, ``relmark demo``, on the embedded CDNOW data."""
    ensure_env(EXTRAS["demo"])
    run(BIN / "relmark", "demo", *args)


def test(args: list[str]) -> None:
    """Run every check CI runs: lint, format, types, tests (incl. notebooks), strict docs build."""
    ensure_env(EXTRAS["test"])
    env_profile = os.environ.setdefault("HYPOTHESIS_PROFILE", "ci")
    print(f"hypothesis profile: {env_profile}", flush=True)
    run(PY, "-m", "ruff", "check", ".")
    run(PY, "-m", "ruff", "format", "--check", ".")
    run(PY, "-m", "mypy")
    run(PY, "-m", "pytest", *args)
    # Tutorials are executed notebooks: they must match their generator and run cleanly.
    run(PY, "notebooks/_build.py", "--check")
    run(PY, "-m", "pytest", "--nbmake", "notebooks", "-q", "-p", "no:cacheprovider")
    run(PY, "-m", "mkdocs", "build", "--strict", "--site-dir", str(VENV / "site"))


def main() -> None:
    """Dispatch ``demo`` or ``test``."""
    commands = {"demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: python3 dev.py {{{'|'.join(commands)}}} [args...]")
    try:
        commands[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)


if __name__ == "__main__":
    main()
