#!/bin/sh
# Install (and update) hook of olrender's Helm 4 plugin: Helm runs it after `helm plugin install` (and `helm plugin
# update`) with HELM_PLUGIN_DIR set. It creates a private Python environment, HELM_PLUGIN_DIR/venv, and installs
# olrender into it: the wheel the package bundles (helm-plugin/package.sh), or else the plugin directory itself,
# a clone of the repository or Helm's checkout of a Git URL (an editable install, so the plugin follows the
# checkout). Needs python3 >= 3.10 with its venv module (OLRENDER_PYTHON names another interpreter) and a package
# index for olrender's dependencies (PyYAML, jsonpatch, click; a clone also needs setuptools to build);
# pip's own settings apply (PIP_INDEX_URL, PIP_NO_INDEX, PIP_FIND_LINKS).
set -eu
dir=${HELM_PLUGIN_DIR:?this is the install hook of the Helm plugin}
python=${OLRENDER_PYTHON:-python3}
fail() {
  echo "olrender plugin: $*. Then: helm plugin uninstall olrender, and install the plugin again." >&2
  exit 1
}
"$python" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null ||
  fail "needs Python 3.10 or later with its venv module as $python (set OLRENDER_PYTHON to use another)"
set -- "$dir"/olrender-*.whl
if [ -f "$1" ]; then
  what="the bundled olrender wheel"
elif [ -f "$dir/pyproject.toml" ]; then
  set -- --editable "$dir"
  what="olrender from $dir"
else
  fail "found neither an olrender wheel nor olrender's sources in $dir"
fi
"$python" -m venv "$dir/venv" || fail "cannot create $dir/venv"
"$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" ||
  fail "cannot install $what and its dependencies (PyYAML, jsonpatch, click) with pip"
"$dir/venv/bin/olrender" --version
