"""One image build as a person sees it, and its full log on disk.

:class:`BuildView` receives the engine's lines (:meth:`BuildView.feed`) and:

* writes every line, control characters removed and passed through
  :func:`dlc_tasks.secrets.redact`, to the build's log file (``.dlc/logs/RUN/NAME.log``);
* prints one line per step (:mod:`.buildlog`): on a terminal the running step is a live line
  with a timer and its last output lines under it, collapsed into the step's line when it
  ends; in plain mode (CI, pipes, ``NO_COLOR``) the step's line when it ends, nothing of
  its output;
* when the build fails, prints the log's last 30 lines and the log file's path.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from dlc_tasks.errors import FileError
from dlc_tasks.reporting.buildlog import BuildSteps, Finished, clean, finished_line, step_line
from dlc_tasks.secrets import redact

TAIL = 30  # lines of the engine's log shown when a build fails
LIVE_OUTPUT = 3  # a running step's last output lines, under its live line


class BuildView:
    """Display and log of one build; a context manager around the engine's build call."""

    def __init__(
        self,
        log_path: Path,
        say: Callable[[str], None],
        *,
        live_stream: IO[str] | None = None,
        indent: str = "    ",
    ) -> None:
        """``say`` prints a line of the run's own (timestamped in plain mode);
        ``live_stream`` is the terminal when the display is live, else None."""
        self.log_path = log_path
        self.say = say
        self.indent = indent
        self.steps = BuildSteps()
        self.tail: deque[str] = deque(maxlen=TAIL)
        self._recent: deque[str] = deque(maxlen=LIVE_OUTPUT)
        self._log: IO[str] | None = None
        self._live: Any = None
        self._live_stream = live_stream

    def __enter__(self) -> BuildView:
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("w", encoding="utf-8", errors="replace")
        except OSError as err:
            raise FileError.of(err, "write", self.log_path) from err
        if self._live_stream is not None:
            from rich.console import Console as RichConsole  # noqa: PLC0415
            from rich.live import Live  # noqa: PLC0415

            self._live = Live(
                console=RichConsole(file=self._live_stream, force_terminal=True),
                get_renderable=self._render,
                transient=True,
                refresh_per_second=8,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        return self

    def feed(self, raw: str) -> None:
        """One line of the engine's build output."""
        line = redact(clean(raw))
        self._write(line)
        if line:
            self.tail.append(line)
        ended, output = self.steps.feed(line)
        for done in ended:
            self._finished(done)
        if output is not None:
            self._recent.append(output)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc is None:
                for done in self.steps.close():
                    self._finished(done)
            else:
                self.steps.current = None  # the failed step gets no line of its own
                self._write(redact(" ".join(f"FAILED: {exc}".split())))
        finally:
            if self._live is not None:
                self._live.stop()
                self._live = None
            if self._log is not None:
                self._log.close()
                self._log = None
        if exc is not None and not isinstance(exc, KeyboardInterrupt):
            self.say(f"{self.indent}the build failed; the engine's last {len(self.tail)} lines:")
            for line in self.tail:
                self.say(f"{self.indent}  | {line}")
            self.say(f"{self.indent}full log: {self.log_path}")

    # -- the two displays --------------------------------------------------------------------

    def _finished(self, done: Finished) -> None:
        self._recent.clear()
        text = self.indent + finished_line(done)
        if self._live is not None:
            from rich.text import Text  # noqa: PLC0415

            self._live.console.print(Text(text), soft_wrap=True, highlight=False)
        else:
            self.say(text)

    def _render(self) -> Any:
        from rich.console import Group  # noqa: PLC0415
        from rich.text import Text  # noqa: PLC0415

        current = self.steps.current
        if current is None:
            return Text("")
        elapsed = self.steps.clock() - self.steps.started
        head = Text(f"{self.indent}{step_line(current)}  {elapsed:5.1f}s", style="bold")
        lines = [Text(f"{self.indent}  {line}", style="dim") for line in self._recent]
        for line in (head, *lines):
            line.no_wrap, line.overflow = True, "ellipsis"
        return Group(head, *lines)

    def _write(self, line: str) -> None:
        if self._log is not None:
            self._log.write(line + "\n")
