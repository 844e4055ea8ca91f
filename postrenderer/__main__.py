"""Allow ``python -m postrenderer``."""

from postrenderer.cli import main

main()
