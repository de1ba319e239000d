"""Progress of long runs: the build steps and every loop over images, layers or nets.

The library functions (``run_build``, ``verify_build``, ``run_rtlsim``, ``run_synth``,
``evaluate_build``) take a :class:`Progress`, :data:`SILENT` by default, so the Python API
prints nothing; the command line picks the display with :func:`for_stream`:

- stderr is a terminal: rich bars (description, bar, count, percentage, current item, time),
  removed when the command ends, notes printed above them;
- stderr is not a terminal (a log file, CI, a pipe): plain timestamped lines, one when a task
  starts, as it advances (at most every ``interval`` seconds unless the task asks for every
  update) and when it ends::

      14:02:11 build: 0/10 steps done, running import
      14:02:30 verify reference: 0/5 images
      14:02:31 verify reference: done, 5/5 images in 0.4 s

- ``quiet``: nothing.

Use::

    with progress.task("verify reference", total=n, unit="images") as t:
        for chunk in chunks:
            ...
            t.advance(len(chunk))
    progress.note("rtlsim", "compiling the RTL model with Verilator")

Tasks may be updated from several threads (synthesis runs in a thread pool).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, TextIO


class Task:
    """One task's state; this base shows nothing (the library's default)."""

    def __init__(
        self,
        name: str,
        total: int | None = None,
        unit: str = "",
        every: bool = False,
        what: str = "",
    ) -> None:
        self.name = name
        self.total = total
        self.unit = unit
        self.every = every  # show every update, not only some (plain lines)
        self.completed: int | None = 0 if total is not None else None
        self.what = what
        self.lock = threading.Lock()

    def update(
        self, completed: int | None = None, total: int | None = None, what: str | None = None
    ) -> None:
        """Set the count done, the total (when it becomes known) and the current item."""
        with self.lock:
            if total is not None:
                self.total = total
            if completed is not None:
                self.completed = completed
            elif total is not None and self.completed is None:
                self.completed = 0
            if what is not None:
                self.what = what
            self._show()

    def advance(self, k: int = 1) -> None:
        with self.lock:
            self.completed = (self.completed or 0) + k
            self._show()

    def _show(self) -> None:
        """Display the state (called with ``lock`` held)."""

    def close(self, failed: bool = False) -> None:
        """The task ended (``failed``: by an exception)."""

    def __enter__(self) -> Task:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(failed=exc_type is not None)

    def count(self) -> str:
        """``3/5 images``, ``3 beats`` (no total yet) or "" (nothing counted)."""
        if self.completed is None:
            return ""
        n = f"{self.completed}/{self.total}" if self.total is not None else f"{self.completed}"
        return f"{n} {self.unit}".rstrip()


class Progress:
    """Where tasks and notes go; this base shows nothing (:data:`SILENT`)."""

    def task(
        self,
        name: str,
        total: int | None = None,
        unit: str = "",
        every: bool = False,
        what: str = "",
    ) -> Task:
        """A task to use as a context manager: ``total`` items (None: not known yet) counted
        in ``unit``; ``what``: the current item; ``every``: plain lines show every update."""
        return Task(name, total, unit, every, what)

    def note(self, name: str, msg: str) -> None:
        """A one-off message (a phase starting, a run that failed)."""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        pass


SILENT = Progress()


class _LineTask(Task):
    def __init__(self, owner: LineProgress, *args) -> None:
        super().__init__(*args)
        self.owner = owner
        self.start = owner.clock()
        self.last = self.start
        self.shown = self.line()
        owner.line(self.shown)

    def line(self) -> str:
        parts = ", ".join(p for p in (self.count(), self.what) if p)
        return f"{self.name}: {parts or 'started'}"

    def _show(self) -> None:
        now = self.owner.clock()
        text = self.line()
        if self.completed == self.total is not None and not (self.every and self.what):
            return  # the line that closes the task says so (unless it names an item)
        if text != self.shown and (self.every or now - self.last >= self.owner.interval):
            self.last, self.shown = now, text
            self.owner.line(text)

    def close(self, failed: bool = False) -> None:
        if failed:
            return  # the error message follows
        with self.lock:
            took = self.owner.clock() - self.start
            done = f"{self.count()} in {took:.1f} s" if self.count() else f"{took:.1f} s"
            self.owner.line(f"{self.name}: done, {done}")


class LineProgress(Progress):
    """Plain timestamped lines on ``stream`` (stderr that is not a terminal)."""

    def __init__(self, stream: IO[str] | None = None, interval: float = 2.0, clock=None) -> None:
        self.stream = stream
        self.interval = interval
        self.clock = clock or time.monotonic
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        stream = self.stream or sys.stderr  # as it is when written (click's runner swaps it)
        with self._lock:
            stream.write(f"{time.strftime('%H:%M:%S')} {text}\n")
            stream.flush()

    def task(
        self,
        name: str,
        total: int | None = None,
        unit: str = "",
        every: bool = False,
        what: str = "",
    ) -> Task:
        return _LineTask(self, name, total, unit, every, what)

    def note(self, name: str, msg: str) -> None:
        self.line(f"{name}: {msg}")


class _BarTask(Task):
    def __init__(self, owner: BarProgress, *args) -> None:
        super().__init__(*args)
        self.owner = owner
        self.id = owner.bars.add_task(self.name, total=self.total, task=self)

    def _show(self) -> None:
        self.owner.bars.update(self.id, total=self.total, completed=self.completed or 0)

    def close(self, failed: bool = False) -> None:
        self.owner.bars.remove_task(self.id)


class BarProgress(Progress):
    """rich progress bars on ``console`` (stderr when it is a terminal), cleared at the end."""

    def __init__(self, console=None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeElapsedColumn

        self.bars = Progress(
            "{task.description}",
            BarColumn(),
            TaskProgressColumn(),
            _count_column()(),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=True,
        )

    def task(
        self,
        name: str,
        total: int | None = None,
        unit: str = "",
        every: bool = False,
        what: str = "",
    ) -> Task:
        return _BarTask(self, name, total, unit, every, what)

    def note(self, name: str, msg: str) -> None:
        self.bars.console.print(f"{name}: {msg}", markup=False, highlight=False)

    def __enter__(self) -> Progress:
        self.bars.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.bars.stop()


def _count_column():
    """The column class (rich is imported only when bars are shown)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class CountColumn(ProgressColumn):
        """``3/5 images  current item`` from the task's own state."""

        def render(self, task) -> Text:
            t: Task = task.fields["task"]
            return Text(" ".join(p for p in (t.count(), t.what) if p))

    return CountColumn


def for_stream(stream: TextIO, quiet: bool = False) -> Progress:
    """What the command line shows on ``stream`` (its stderr): nothing when ``quiet``, bars
    on a terminal, plain lines otherwise."""
    if quiet:
        return SILENT
    if stream.isatty():
        from rich.console import Console

        return BarProgress(Console(file=stream))
    return LineProgress(stream)
