"""olrender: a Helm post-renderer that injects the OpenLineage API key into agent workloads."""

__version__ = "0.1.0"
