#!/bin/sh
# Builds {{name}}.wasm, a component of baton:policy's `health` world:
# esbuild bundles src/policy.js with Baton's SDK (sdk/, imported as
# '@baton/policy') into one module, then componentize-js makes the
# component. Both come from npm at the versions package-lock.json pins
# (`npm ci`, the first time).
set -eu
cd "$(dirname "$0")"
[ -x node_modules/.bin/componentize-js ] && [ -x node_modules/.bin/esbuild ] ||
    npm ci --no-audit --no-fund --loglevel=error
mkdir -p build
cat >build/entry.js <<'JS'
import { check as policyCheck } from '../src/policy.js';
import { exportCheck } from '@baton/policy';
export const check = exportCheck(policyCheck);
JS
node_modules/.bin/esbuild build/entry.js --bundle --format=esm --platform=neutral \
    "--alias:@baton/policy=$PWD/sdk/index.js" '--external:baton:*' '--external:wasi:*' \
    --log-level=warning --outfile=build/{{name}}.js
# The host's interfaces carry the WIT package's version (baton:policy/log@X).
v=$(sed -n 's/^package baton:policy@\([0-9.]*\);/\1/p' wit/policy.wit)
sed -i -E "s#([\"'])baton:policy/([a-z-]+)([\"'])#\\1baton:policy/\\2@$v\\3#g" build/{{name}}.js
# wasi:http is not part of Baton's host: a policy reaches HTTP through
# baton:policy/probe.
(cd build && ../node_modules/.bin/componentize-js {{name}}.js --wit ../wit --world-name health \
    --disable http fetch-event -o ../{{name}}.wasm)
echo "built {{name}}.wasm"
