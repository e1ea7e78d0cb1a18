#!/bin/sh
# Builds {{name}}.wasm, a component of baton:policy's `health` world, with
# componentize-py {{componentize_py}} from PyPI, installed into a virtualenv
# of this project's own (.venv) the first time.
set -eu
cd "$(dirname "$0")"
version={{componentize_py}}
venv="$PWD/.venv"
have=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("componentize-py"))' 2>/dev/null || true)
if [ "$have" != "$version" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "componentize-py==$version"
fi
# src/ holds the policy (app.py) and Baton's SDK (baton_policy/).
VIRTUAL_ENV="$venv" "$venv/bin/componentize-py" -q -d wit -w health componentize app -p src -o {{name}}.wasm
find src -depth -type d -name __pycache__ -exec rm -rf {} +
echo "built {{name}}.wasm"
