"""End-to-end tests: olrender called by real helm 4, helm 3 and helmfile binaries."""

import pytest

# The checks in clients.py are plain asserts: let pytest explain their failures too.
pytest.register_assert_rewrite("tests.realclients.clients")
