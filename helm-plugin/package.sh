#!/bin/sh
# Build olrender's release artifacts in dist/: the wheel and the sdist (both stamped with the commit when this is a
# Git checkout: olrender --version names it), and the Helm 4 plugin package olrender-VERSION.tgz (plugin.yaml, its
# install hook and the wheel). Extra arguments go to `helm plugin package`; without any the package is unsigned.
#   helm-plugin/package.sh                                              # install with --verify=false
#   helm-plugin/package.sh --sign --key NAME --keyring secring.gpg      # also writes the .prov signature
# Needs helm 4 on PATH and python3 >= 3.10 with its venv module, nothing else: the build runs in a throwaway virtual
# environment (a stock Debian 12 refuses pip outside one) with Python's build module from the package index.
# WHEEL=FILE packages that wheel instead (nothing is built); PYTHON=... picks the Python that builds.
set -eu
cd "$(dirname "$0")/.."
stage=$(mktemp -d)
trap 'rm -rf "$stage" postrenderer/_commit.py' EXIT
mkdir -p "$stage/olrender/helm-plugin" dist
if [ -n "${WHEEL:-}" ]; then
  cp "$WHEEL" "$stage/olrender/"
else
  if commit=$(git rev-parse --verify --quiet HEAD 2>/dev/null); then
    git diff --quiet HEAD -- 2>/dev/null || commit="$commit-dirty"
    printf '"""The commit this build was made from (written by helm-plugin/package.sh)."""\n\nCOMMIT = "%s"\n' \
      "$commit" >postrenderer/_commit.py
  fi
  rm -rf build  # a leftover setuptools build directory would shadow the sources
  "${PYTHON:-python3}" -m venv "$stage/venv"
  { "$stage/venv/bin/python" -m pip install --quiet --disable-pip-version-check build &&
    "$stage/venv/bin/python" -m build --outdir "$stage/dist" .; } >"$stage/build.log" 2>&1 ||
    { cat "$stage/build.log" >&2; echo "package.sh: the build failed (its output is above)" >&2; exit 1; }
  rm -rf build
  cp "$stage"/dist/* dist/
  cp "$stage"/dist/*.whl "$stage/olrender/"
fi
cp plugin.yaml "$stage/olrender/"
cp helm-plugin/install.sh "$stage/olrender/helm-plugin/"
[ $# -gt 0 ] || set -- --sign=false
helm plugin package "$stage/olrender" -d dist "$@"
