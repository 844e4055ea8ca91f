"""Stage 5, writing: the plan applied in place to each document's text, and the views of it (diff, patches, reports)."""
