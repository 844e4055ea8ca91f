"""Stage 4, lint: what the OpenLineage client inside each component will do with its environment, as findings."""
