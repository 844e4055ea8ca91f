"""olrender: a Helm post-renderer that injects the OpenLineage API key into agent workloads.

``__version__`` is the one source of the version (pyproject.toml, both plugin.yaml files and the
release tag must agree: tests/realclients/test_packaging.py). :func:`version_text` adds the commit:
``postrenderer/_commit.py``, written by ``helm-plugin/package.sh`` into what it builds, or else
``git`` when olrender runs from a clone (an editable install); it is called only for ``--version``,
``--help`` and errors, so a plain render never pays for it.
"""

from __future__ import annotations

__version__ = "0.1.0"


def version_text() -> str:
    """The version and, when known, the commit it was built from."""
    import os
    import subprocess

    try:
        from postrenderer._commit import COMMIT  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        if not os.path.exists(os.path.join(root, ".git")) or not os.path.exists(os.path.join(root, "pyproject.toml")):
            return __version__
        try:
            proc = subprocess.run(["git", "-C", root, "describe", "--always", "--dirty", "--abbrev=40", "--exclude=*"],
                                  capture_output=True, text=True, timeout=5, check=False)
        except OSError:
            return __version__
        COMMIT = proc.stdout.strip() if proc.returncode == 0 else ""
    return f"{__version__} (commit {COMMIT})" if COMMIT else __version__
