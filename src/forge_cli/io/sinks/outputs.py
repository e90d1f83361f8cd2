"""The two output files of a run, replaced whole: no crash leaves half a run under their names.

A run writes ``<output>.partial`` beside each output and, once every record it read is accounted
for, renames both over the outputs (``os.replace``, atomic within one file system; failures first,
results last). So ``tickets.results.jsonl`` always holds a whole earlier run or this whole run, never
a mix. A run that is interrupted, killed, or stopped by a full disk leaves the outputs as they were;
its ``.partial`` files keep what it wrote (whole lines) until the next run starts them afresh, and
the cache makes the answers already received free for that next run.

While a run writes, an OS lock (``lock.py``) keeps a second run off the same outputs.

With ``--out -`` the results go to standard output (``stdout.py``) as they come, and only the
failures file is written aside and replaced. The lock is still taken on the results' name: the
failures file is shared with a run that writes both files, so the two must not overlap.

Links: forge never writes through a symbolic link. An output name that is a link stops the run
before anything is written, with one line: a link planted in a shared folder could otherwise make
forge overwrite whatever file it points to, and replacing a link the user made on purpose would be
a surprise too.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from forge_cli.core.errors import OutputError
from forge_cli.io.sinks.base import Sink
from forge_cli.io.sinks.lock import OutputLock
from forge_cli.io.sinks.opener import open_sink
from forge_cli.io.sinks.stdout import STDOUT_NAME, stdout_sink

__all__ = ["RunFiles", "partial_path"]

PARTIAL_SUFFIX = ".partial"


def partial_path(path: Path) -> Path:
    """Where a run writes ``path`` until it is done."""
    return path.with_name(path.name + PARTIAL_SUFFIX)


def _existing_output(path: Path) -> bool:
    """Whether an earlier output is there to replace; OutputError if it cannot be replaced."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise OutputError(f"cannot look at {path}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(info.st_mode):
        raise OutputError(
            f"{path} is a symbolic link: forge does not write through links; remove it or give "
            "another --out-dir"
        )
    if not stat.S_ISREG(info.st_mode):
        raise OutputError(f"{path} is in the way: it exists and is not a file")
    return True


def _remove_leftover(partial: Path) -> None:
    """Remove what an earlier, unfinished run left at ``partial`` (a file, or a link: not followed)."""
    try:
        info = os.lstat(partial)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"cannot look at {partial}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(f"{partial} is in the way: it is a folder")
    try:
        os.unlink(partial)
    except OSError as exc:
        raise OutputError(f"cannot remove {partial}: {exc.strerror or exc}") from None


def _sync_folder(folder: Path) -> None:
    """Make the renames durable (POSIX); nothing to do, or possible, elsewhere."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class RunFiles:
    """The results and failures files of one run: locked, written aside, put in place at the end.

    ``with RunFiles(results, failures, command=...) as files:`` takes the lock and checks the
    outputs can be replaced; ``files.open(...)`` gives the two writers; ``files.publish()`` puts
    them in place. Leaving the block without ``publish`` keeps the earlier outputs and this run's
    ``.partial`` files, and always lets the lock go.
    """

    def __init__(
        self, results: Path, failures: Path, *, command: str, results_to_stdout: bool = False
    ) -> None:
        self.results = Path(results)
        self.failures = Path(failures)
        self.results_to_stdout = results_to_stdout
        self.lock = OutputLock(self.results, command)
        self.sinks: tuple[Sink, Sink] | None = None
        #: outputs of an earlier run that this one replaces when it is done
        self.existing: list[Path] = []

    @property
    def partials(self) -> tuple[Path, Path]:
        results = Path(STDOUT_NAME) if self.results_to_stdout else partial_path(self.results)
        return results, partial_path(self.failures)

    @property
    def results_name(self) -> Path:
        """Where the results are once the run is done: their file, or ``<stdout>``."""
        return Path(STDOUT_NAME) if self.results_to_stdout else self.results

    def __enter__(self) -> RunFiles:
        self.lock.acquire()
        try:
            outputs = [self.failures] if self.results_to_stdout else [self.results, self.failures]
            self.existing = [p for p in outputs if _existing_output(p)]
        except BaseException:
            self.lock.release()
            raise
        return self

    def open(
        self, fmt: str, result_columns: Sequence[str], failure_columns: Sequence[str]
    ) -> tuple[Sink, Sink]:
        """The writers of this run's ``.partial`` files (any left by an earlier run are removed),
        or of stdout for the results with ``results_to_stdout``."""
        if self.results_to_stdout:
            results = stdout_sink(fmt, result_columns)
        else:
            results = self._open(self.results, fmt, result_columns)
        try:
            failures = self._open(self.failures, fmt, failure_columns)
        except BaseException:
            results.discard()
            raise
        self.sinks = (results, failures)
        return self.sinks

    @staticmethod
    def _open(final: Path, fmt: str, columns: Sequence[str]) -> Sink:
        partial = partial_path(final)
        _remove_leftover(partial)
        try:
            return open_sink(partial, fmt, columns)
        except OSError as exc:
            raise OutputError(f"cannot write {partial}: {exc.strerror or exc}") from None

    def publish(self) -> None:
        """Put this run's files in place of the outputs: call once every record is accounted for.

        OutputError if the files cannot be finished (a disk that fills at the last flush); the
        earlier outputs are then left as they were.
        """
        if self.sinks is None:
            raise RuntimeError("publish() before open()")
        current = self.results
        try:
            for sink in self.sinks:
                current = sink.path
                sink.sync()
                sink.close()
            results, failures = self.sinks
            for sink, final in ((failures, self.failures), (results, self.results)):
                if sink is results and self.results_to_stdout:
                    continue  # already where it goes
                current = final
                with contextlib.suppress(OSError):  # keep the mode the user gave the old file
                    os.chmod(sink.path, stat.S_IMODE(os.lstat(final).st_mode))
                os.replace(sink.path, final)
        except OSError as exc:
            raise OutputError(
                f"cannot finish {current}: {exc.strerror or exc}; the outputs of earlier runs are "
                f"left as they were, this run's lines are in {self.partials[0].name} and "
                f"{self.partials[1].name}"
            ) from None
        _sync_folder(self.results.parent)

    def close(self) -> None:
        """Close the writers (their buffered whole lines go to the ``.partial`` files) and unlock."""
        try:
            for sink in self.sinks or ():
                with contextlib.suppress(OSError):
                    sink.close()
        finally:
            self.lock.release()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
