"""Stage 3, injection: each method's contribution for a component, planned as RFC 6902 operations per document."""
