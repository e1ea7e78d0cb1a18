#!/bin/sh
# Builds {{name}}.wasm, a component of baton:policy's `health` world, with
# the Rust toolchain (rustup's wasm32-wasip2 target; crates from crates.io).
set -eu
cd "$(dirname "$0")"
rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
cargo build --release --target wasm32-wasip2
cp "${CARGO_TARGET_DIR:-target}/wasm32-wasip2/release/{{crate}}.wasm" {{name}}.wasm
echo "built {{name}}.wasm"
