#!/bin/sh
# Install hook of the packaged olrender plugin (Helm 4 runs it once, after `helm plugin install`): a private
# Python environment in the plugin directory with the olrender wheel bundled next to this script. Needs
# python3 >= 3.10 with its venv module (OLRENDER_PYTHON names another interpreter) and a package index for
# olrender's dependencies (PyYAML, jsonpatch, click); pip's own settings apply (PIP_INDEX_URL, PIP_FIND_LINKS).
set -eu
dir=${HELM_PLUGIN_DIR:?this is the install hook of the Helm plugin}
python=${OLRENDER_PYTHON:-python3}
fail() {
  echo "olrender plugin: $*. Then: helm plugin uninstall olrender, and install the package again." >&2
  exit 1
}
"$python" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null ||
  fail "needs Python 3.10 or later with its venv module as $python (set OLRENDER_PYTHON to use another)"
"$python" -m venv "$dir/venv" || fail "cannot create $dir/venv"
"$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$dir"/olrender-*.whl ||
  fail "cannot install the bundled olrender wheel and its dependencies (PyYAML, jsonpatch, click) with pip"
"$dir/venv/bin/olrender" --version
