"""A real terminal for the tests: a tmux server of its own, reading what a person sees.

Each :class:`Terminal` starts a tmux server on a socket under the test's temporary
directory (never in /tmp itself, never the user's server), runs one command in a pane of
the width asked for and reads the screen back with ``capture-pane``. :meth:`close` kills
the server; use :func:`terminal` (a context manager) or a fixture finalizer.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

TMUX = shutil.which("tmux") or "/usr/bin/tmux"
#: printed after the command, so that the test knows it ended and how
_DONE = "__anchore_done__"
_DONE_LINE = re.compile(rf"^{_DONE} (\d+)$", re.M)
#: an escape sequence (CSI ...) as capture-pane -e shows styles
ESCAPE = re.compile(r"\x1b\[[0-9;:]*m")


class Terminal:
    """One tmux server and one session ``width`` x ``height`` cells."""

    def __init__(self, where: Path, width: int, height: int = 50) -> None:
        self.width, self.height = width, height
        self.socket = where / f"tmux-{width}.sock"
        self.conf = where / "tmux.conf"
        # no user config; a scrollback that holds a whole analysis; a terminal that
        # draws colour (rich decides from TERM)
        self.conf.write_text("set -g history-limit 100000\nset -g default-terminal tmux-256color\n")
        self.started = False

    def _tmux(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        done = subprocess.run(
            [TMUX, "-S", str(self.socket), "-f", str(self.conf), *args],
            capture_output=True,
            text=True,
            timeout=30,
            env=dict(env) if env is not None else None,
        )
        if done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 300,
        watch: Callable[[str], None] | None = None,
    ) -> int:
        """Run ``python -m anchore ARGV`` in the pane; its exit code when it ends. ``watch``
        is given the visible screen while it runs (to see a progress bar come)."""
        command = shlex.join([sys.executable, "-m", "anchore", *argv])
        script = f"{command}; echo {_DONE} $?; exec sleep 3600"
        environ = _environ(env)
        self._tmux(
            "new-session", "-d", "-x", str(self.width), "-y", str(self.height),
            "-s", "t", "sh", "-c", script, env=environ,
        )  # fmt: skip
        self.started = True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            found = _DONE_LINE.search(self.history())
            if found:
                return int(found.group(1))
            if watch is not None:
                watch(screen)
            time.sleep(0.05)
        raise TimeoutError(f"{command} did not end in {timeout} s")

    def screen(self, *, escapes: bool = False) -> str:
        """The visible screen, one string per screen row (``escapes``: with styles)."""
        return self._tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", "t")

    def history(self, *, escapes: bool = False, join: bool = False) -> str:
        """Everything the command wrote (scrollback and screen), without the end marker.
        ``join``: a line the terminal wrapped comes back as one (longer than the width)."""
        flags = ["-e"] if escapes else []
        flags += ["-J"] if join else []
        text = self._tmux("capture-pane", "-p", *flags, "-S", "-", "-E", "-", "-t", "t")
        return text

    def lines(self, *, escapes: bool = False, join: bool = False) -> list[str]:
        """The command's output as screen lines: trailing blanks and the marker dropped."""
        text = self.history(escapes=escapes, join=join)
        lines = [line.rstrip() for line in text.splitlines()]
        end = next(
            (i for i, line in enumerate(lines) if ESCAPE.sub("", line).startswith(_DONE)),
            len(lines),
        )
        return lines[:end]

    def close(self) -> None:
        """Kill this test's tmux server (and the command's processes with it)."""
        if self.started:
            with contextlib.suppress(Exception):
                self._tmux("kill-server")
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()


def _environ(extra: Mapping[str, str] | None) -> dict[str, str]:
    """The test's environment for the pane: no $COLUMNS/$LINES (the pane's size must rule),
    no NO_COLOR unless asked, temporary files under the test's own directory."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "TMUX")}
    env.update(extra or {})
    return env


@contextlib.contextmanager
def terminal(where: Path, width: int, height: int = 50) -> Iterator[Terminal]:
    term = Terminal(where, width, height)
    try:
        yield term
    finally:
        term.close()
