"""Root conftest: registers the ``real_tool`` fixture (pytest only honours ``pytest_plugins`` here)."""

pytest_plugins = ["tests.tools.pytest_realtools"]
