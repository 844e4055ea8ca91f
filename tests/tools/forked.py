"""Run one oracle case in a forked child of a clean process and read its JSON answer (standard library only).

The oracle scripts (``openlineage_oracle.py``, ``emit_oracle.py``) import the real packages once,
then answer each case in a child, so that no case sees another's settings:

    in_child(lambda: resolve(mode, case), "results.json.3")  -> {"kind": "http", ...}
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from typing import Any

CHILD_TIMEOUT_S = 60


def in_child(answer: Callable[[], dict[str, Any]], out: str) -> dict[str, Any]:
    """Fork, compute the answer in the child (at most CHILD_TIMEOUT_S), and read it back."""
    pid = os.fork()
    if pid == 0:
        signal.alarm(CHILD_TIMEOUT_S)  # a hanging client ends the child (SIGALRM's default action)
        status = 0
        try:
            result = answer()
            with open(out, "w", encoding="utf-8") as fh:
                json.dump(result, fh)
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    try:
        with open(out, encoding="utf-8") as fh:
            return dict(json.load(fh))
    except (OSError, ValueError):
        return {"kind": "crash", "error": f"child exited with status {status}"}
    finally:
        if os.path.exists(out):
            os.unlink(out)
