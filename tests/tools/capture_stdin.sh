#!/bin/sh
# Identity post-renderer that records its stdin: copies the manifest stream Helm pipes
# in to "$CAPTURE_FILE" and hands it back unchanged on stdout.
set -eu
: "${CAPTURE_FILE:?CAPTURE_FILE must name the file to write}"
exec tee -- "$CAPTURE_FILE"
