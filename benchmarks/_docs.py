"""Helpers shared by the benchmark scripts: the machine line and the docs-section rewrite.

Each script owns one section of ``docs/performance.md`` between ``<!-- name:start -->`` and
``<!-- name:end -->`` markers; ``write_section`` replaces that section (or appends it under its
heading when the markers are missing), so the published figures are always a real run's output.
"""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "performance.md"
SHARED_NOTE = (
    "Absolute times vary by a factor of up to about two between runs on these virtual 2-core "
    "machines; both sides ran in the same process on the same data, one after the other, so the "
    "ratio is the figure to read."
)


def _version(package: str) -> str:
    """The installed version of ``package`` (read from its metadata, without importing it)."""
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def machine() -> str:
    """CPU model, usable cores, OS and the versions that matter for the timings.

    pandas and lifetimes are named by their installed metadata, so scripts that time relmark
    alone (``bench_sem``, ``bench_intervals``, ``bench_dask``) do not need lifetimes.
    """
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cpu}, {cores} cores available, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {_version('pandas')}, lifetimes {_version('lifetimes')}"
    )


def write_section(
    name: str,
    heading: str,
    command: str,
    table: str,
    *,
    note: str = SHARED_NOTE,
    docs: Path = DOCS,
    fallback: Path | None = None,
) -> Path:
    """Rewrite the ``name`` section of ``docs`` (machine, note, command, table); return the file.

    Without the markers the section is appended under ``## {heading}``; when ``docs`` does not
    exist it is written to ``fallback`` (a page of its own) if given, else ``docs`` is created.
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    section = f"{start}\nMachine: {machine()}.\n{note}\n\nCommand: `{command}`\n\n{table}\n{end}"
    if docs.exists():
        text = docs.read_text()
        if start in text and end in text:
            head, rest = text.split(start, 1)
            _, tail = rest.split(end, 1)
            docs.write_text(head + section + tail)
        else:
            docs.write_text(text.rstrip("\n") + f"\n\n## {heading}\n\n" + section + "\n")
        return docs
    target = fallback if fallback is not None else docs
    target.write_text(f"# Performance: {heading}\n\n" + section + "\n")
    return target
