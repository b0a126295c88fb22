"""The progress display of a batch: a bar in a terminal, a plain line every few seconds elsewhere.

On a terminal, a tqdm bar on stderr (runs done, runs per second, time left). When stderr is a
file or a pipe (``sim optimise ... 2> log``, CI), a bar would write control characters, so a
plain line is printed instead, at most every :data:`EVERY_S` seconds::

    optimise: 40,000 of 185,000 runs (22%), 2,310 runs/s, about 63 s left
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import Any, TextIO

from tqdm import tqdm

EVERY_S = 5.0
"""Seconds between two plain progress lines."""


class Progress:
    """Counts finished runs and shows them.

    Args:
        total: Runs in all (None: unknown, as for a calibration that stops when it converges).
        initial: Runs already done (a resumed sweep's chunks).
        quiet: Show nothing.
        desc: The label (the command).
        stream: Where to write (default stderr).
        every: Seconds between plain lines.

    """

    def __init__(self, total: int | None, initial: int = 0, quiet: bool = False,
                 desc: str = "batch", stream: TextIO | None = None, every: float = EVERY_S):
        self.total, self.done, self.desc = total, initial, desc
        self.stream = stream if stream is not None else sys.stderr
        self.quiet, self.every = quiet, every
        self._initial = initial
        self._start = self._last = time.monotonic()
        self._bar: Any = None
        if not quiet and self.stream.isatty():
            tqdm.monitor_interval = 0
            columns = shutil.get_terminal_size((100, 20)).columns
            self._bar = tqdm(total=total, initial=initial, unit="run", unit_scale=True,
                             file=self.stream, ncols=columns if columns >= 40 else 100,
                             smoothing=0.1, desc=desc)

    def update(self, runs: int) -> None:
        """Count ``runs`` more finished runs."""
        self.done += runs
        if self._bar is not None:
            self._bar.update(runs)
            return
        now = time.monotonic()
        if not self.quiet and now - self._last >= self.every:
            self._last = now
            print(self.line(now - self._start), file=self.stream, flush=True)

    def line(self, elapsed: float) -> str:
        """The plain progress line after ``elapsed`` seconds."""
        rate = (self.done - self._initial) / elapsed if elapsed > 0 else 0.0
        text = f"{self.desc}: {self.done:,}"
        if self.total:
            text += f" of {self.total:,} runs ({100 * self.done / self.total:.0f}%)"
        else:
            text += " runs"
        text += f", {rate:,.0f} runs/s"
        if self.total and rate > 0:
            text += f", about {max(self.total - self.done, 0) / rate:,.0f} s left"
        return text

    def write(self, message: str) -> None:
        """Print a message on its own line (above the bar, if there is one)."""
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def close(self) -> None:
        """Remove the bar (a plain display prints nothing more)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
