"""Keystrokes typed while a command runs are not echoed where the bot's output is going.

A person types the next command while a VM is still being made. The terminal echoes those
keys at once, in the middle of the progress message that the console redraws in place, so
the redraw erases the wrong rows and the typed text lands between two messages. With echo
off while the command runs, the keys wait in the terminal's buffer and readline shows them
after the next prompt, where they belong. Echo is only turned off when readline is in use
(it echoes what it reads itself), and always turned back on, Ctrl-C included.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def typing_hidden(enabled: bool, stream: Any = None) -> Iterator[None]:
    """Echo off on `stream` (stdin) for the duration, when enabled and safe; else nothing."""
    stream = stream if stream is not None else sys.stdin
    saved: list[Any] | None = None
    termios: Any = None
    if enabled and "readline" in sys.modules:
        with contextlib.suppress(ImportError, OSError, ValueError, AttributeError):
            import termios as termios_module

            termios = termios_module
            fd = stream.fileno()
            saved = termios.tcgetattr(fd)
            quiet = list(saved)
            quiet[3] = quiet[3] & ~termios.ECHO  # lflags: no echo; line discipline unchanged
            termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        if saved is not None:
            with contextlib.suppress(OSError, ValueError):
                termios.tcsetattr(stream.fileno(), termios.TCSANOW, saved)


__all__ = ["typing_hidden"]
