"""Test tooling: real helm/helmfile/kubectl binaries and stream fixtures."""
