"""Stage 1, configuration: options, ``OLRENDER_*`` variables and values files become one ``Settings``."""
