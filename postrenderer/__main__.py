"""Allow ``python -m postrenderer``."""

from postrenderer.cli import entry

entry()
