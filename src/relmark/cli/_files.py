"""Files the command line writes: never over its input, always atomically.

Two promises (see ``docs/explanation/reliability.md``):

- **Output is never input.** [`refuse_input_as_output`][relmark.cli._files.refuse_input_as_output]
  compares the resolved paths (``sub/../in.csv``, symlinks) and, when both exist, the files
  themselves (``os.path.samefile``: hard links, bind mounts), before anything is read.
- **A write is all or nothing.** [`atomic_write`][relmark.cli._files.atomic_write] writes a
  temporary file in the target's directory, flushes it to disk and renames it over the target
  with ``os.replace`` (``Path.replace``; atomic on POSIX and Windows). A write that fails half way (disk full, a
  file-size limit, an exception in the writer) removes the temporary file and leaves an existing
  target untouched.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from relmark.errors import InvalidInputError

__all__ = ["atomic_write", "refuse_input_as_output"]

_NEW_FILE_MODE = 0o666  # the process umask applies, as for any file the user creates


def refuse_input_as_output(inputs: Iterable[Path], output: Path, *, option: str) -> None:
    """Raise when ``output`` is one of ``inputs`` (same path after resolution, or same file).

    Args:
        inputs: Files the command reads.
        output: The file it would write.
        option: The option that named ``output`` (for the message), e.g. ``"--output"``.

    Raises:
        InvalidInputError: When writing ``output`` would replace an input.
    """
    target = output.resolve()
    for source in inputs:
        same = source.resolve() == target
        if not same and source.exists() and output.exists():
            same = source.samefile(output)
        if same:
            raise InvalidInputError(
                f"{option} {output} is the input file {source}; relmark never writes over its "
                f"input. Choose another {option} file."
            )


def _temporary_name(target: Path) -> Path:
    # Hidden, unique, in the target's directory: os.replace is atomic only within one file system.
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")


def atomic_write(target: Path, write: Callable[[Path], object]) -> None:
    """Write ``target`` all or nothing: ``write(temporary)``, fsync, then rename over ``target``.

    Args:
        target: The file to create or replace.
        write: Writes the complete content to the path it is given (which does not exist yet,
            so a writer that opens by name creates it).

    A replaced file keeps its permission bits; a new one gets the usual ones (``0o666`` less
    the process umask).

    Raises:
        OSError: When the file cannot be written; ``target`` is then unchanged and no temporary
            file is left behind.
    """
    temporary = _temporary_name(target)
    # Create the file ourselves (exclusive, usual permissions) so no other file is followed.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _NEW_FILE_MODE)
    os.close(descriptor)
    try:
        if target.is_file():
            # A replaced file keeps its permissions: scores readable by the owner only stay so.
            temporary.chmod(stat.S_IMODE(target.stat().st_mode))
        write(temporary)
        with temporary.open("rb+") as handle:
            os.fsync(handle.fileno())
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(target.parent)


def _sync_directory(directory: Path) -> None:
    """Flush the rename to disk where the platform allows opening a directory."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open directories
        return
    try:
        os.fsync(descriptor)
    except OSError:  # pragma: no cover - some file systems refuse fsync on directories
        pass
    finally:
        os.close(descriptor)
