#!/bin/sh
# Build the Helm 4 plugin package dist/olrender-VERSION.tgz: plugin.yaml, its install hook and the olrender
# wheel. Extra arguments go to `helm plugin package`; without any the package is unsigned.
#   helm-plugin/package.sh                                              # install with --verify=false
#   helm-plugin/package.sh --sign --key NAME --keyring secring.gpg      # also writes the .prov signature
# Run it in a clone of this repository with helm 4 on PATH and Python's build module (pip install build);
# WHEEL=FILE packages that wheel instead of building one, PYTHON=... picks the Python that builds it.
set -eu
cd "$(dirname "$0")/.."
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/olrender"
if [ -n "${WHEEL:-}" ]; then
  cp "$WHEEL" "$stage/olrender/"
else
  "${PYTHON:-python3}" -m build --wheel --outdir "$stage/olrender" . >&2
fi
cp helm-plugin/plugin.yaml helm-plugin/install.sh "$stage/olrender/"
[ $# -gt 0 ] || set -- --sign=false
mkdir -p dist
helm plugin package "$stage/olrender" -d dist "$@"
