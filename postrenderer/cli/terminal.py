"""The person at the terminal: where a Helm 4 run's warnings and errors can still be seen.

Helm 4 discards its post-renderer plugin's stderr, on success and on failure. Helm does not
detach the plugin from its terminal, though: the plugin runs in Helm's session and process
group, so ``/dev/tty`` is the terminal the person typed ``helm`` in. ``tell`` writes there
only when that is safe for every other kind of run:

- no controlling terminal (CI, cron, Argo CD, Flux, ``ssh host helm ...`` without ``-t``):
  opening ``/dev/tty`` fails, nothing is written;
- in the background (``helm ... &``): the terminal's foreground process group is another
  one, so nothing is written (a write could stop the job with SIGTTOU under ``stty tostop``);
- stdout is never touched, so ``helm template ... --post-renderer olrender | kubectl apply -f -``
  reads the same stream as before; the messages appear above it on the screen, like a
  password prompt of ``ssh`` or ``gpg``.
"""

from __future__ import annotations

import os

TERMINAL = "/dev/tty"


def tell(texts: list[str], terminal: str = TERMINAL) -> bool:
    """Write texts to the controlling terminal if this process is in its foreground; say whether it did."""
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(terminal, flags)
    except OSError:  # no controlling terminal
        return False
    try:
        if not os.isatty(fd) or os.tcgetpgrp(fd) != os.getpgrp():
            return False
        data = "".join(f"{text}\n" for text in texts).replace("\n", "\r\n").encode("utf-8", "backslashreplace")
        while data:
            data = data[os.write(fd, data):]
        return True
    except OSError:  # the terminal went away, or would block: the log file still has it all
        return False
    finally:
        os.close(fd)
