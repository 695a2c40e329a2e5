#!/usr/bin/env bash
# Installs what a machine with only the Rust toolchain and Node lacks to build and test
# Rampart. Idempotent: each step is skipped when its exact version is there.
#   install-tools.sh build   what `make run` needs: the wasm target, the wasm-bindgen CLI, wasm-opt
#   install-tools.sh         the same, then what the tests need: Chromium, the end-to-end npm
#                            packages, and the Python packages the API tests compare against
# Tools go to $RAMPART_TOOLS (default ~/.cache/rampart-tools), outside the clone.
set -euo pipefail

TOOLS="${RAMPART_TOOLS:-$HOME/.cache/rampart-tools}"
SET="${1:-all}"
WASM_BINDGEN_VERSION=0.2.130 # must equal the wasm-bindgen crate version in Cargo.lock
BINARYEN_VERSION=123.0.0
mkdir -p "$TOOLS/bin"
export PATH="$TOOLS/bin:$TOOLS/node_modules/.bin:$PATH"
log() { printf '[install-tools] %s\n' "$*"; }

here="$(cd "$(dirname "$0")/.." && pwd)"
if [ -f "$here/Cargo.lock" ]; then
  locked=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' "$here/Cargo.lock")
  [ -n "$locked" ] && WASM_BINDGEN_VERSION="$locked"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown >/dev/null
fi

# Installs crate $1 at version $2 into $TOOLS. Where `--locked` pins a dependency this
# toolchain or registry cannot use, the crate's own lock is patched with `$3 --precise $4`.
install_crate() {
  local crate=$1 version=$2 pin_pkg=${3:-} pin_version=${4:-}
  local src work="$TOOLS/src/$crate-$version"
  if [ ! -d "$work" ]; then
    src=$(ls -d "$HOME"/.cargo/registry/src/*/"$crate-$version" 2>/dev/null | head -n1 || true)
    if [ -z "$src" ]; then
      # A throwaway resolve downloads the crate's source into the registry cache.
      local probe; probe=$(mktemp -d)
      (cd "$probe" && cargo init -q --name probe_fetch >/dev/null 2>&1 &&
        printf '%s = "=%s"\n' "$crate" "$version" >>Cargo.toml && cargo fetch -q >/dev/null 2>&1) || true
      rm -rf "$probe"
      src=$(ls -d "$HOME"/.cargo/registry/src/*/"$crate-$version" 2>/dev/null | head -n1 || true)
    fi
    if [ -z "$src" ]; then
      # Binary-only crates cannot be fetched as a dependency; a first install attempt unpacks them.
      cargo install -q "$crate@$version" --locked --root "$TOOLS/failed" >/dev/null 2>&1 || true
      src=$(ls -d "$HOME"/.cargo/registry/src/*/"$crate-$version" 2>/dev/null | head -n1 || true)
    fi
    [ -n "$src" ] || { echo "install-tools: could not get the source of $crate $version" >&2; exit 1; }
    mkdir -p "$TOOLS/src"
    cp -r "$src" "$work.tmp" && mv "$work.tmp" "$work"
  fi
  if [ -n "$pin_pkg" ]; then
    (cd "$work" && cargo update -q -p "$pin_pkg" --precise "$pin_version" 2>/dev/null || true)
  fi
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_TARGET_DIR="$TOOLS/build-target" \
    cargo install --path "$work" --locked --root "$TOOLS" --force
}

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  log "building wasm-bindgen-cli $WASM_BINDGEN_VERSION (once; about 5 minutes on two cores)"
  install_crate wasm-bindgen-cli "$WASM_BINDGEN_VERSION" webpki-roots 1.0.10
fi

if ! wasm-opt --version 2>/dev/null | grep -q "${BINARYEN_VERSION%%.*}"; then
  log "installing binaryen $BINARYEN_VERSION (wasm-opt) from npm"
  npm install -s --no-audit --no-fund --prefix "$TOOLS" "binaryen@$BINARYEN_VERSION" >/dev/null
fi

if [ "$SET" = build ]; then
  log "build tools ready in $TOOLS"
  exit 0
fi

if ! command -v chromium >/dev/null; then
  log "installing chromium from Debian"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if [ -f "$here/end2end/package.json" ]; then
  if [ ! -d "$here/end2end/node_modules/playwright-core" ] || [ ! -d "$here/end2end/node_modules/@playwright/test" ] ||
    [ ! -d "$here/end2end/node_modules/@axe-core/playwright" ]; then
    log "installing the end-to-end npm packages"
    (cd "$here/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci -s --no-audit --no-fund >/dev/null 2>&1 ||
      PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install -s --no-audit --no-fund >/dev/null)
  fi
fi
# The API tests verify tokens the way a Python backend does, with PyJWT, import password
# hashes made by the reference libraries (passlib, bcrypt, argon2-cffi), and check the
# OpenAPI document with openapi-spec-validator (and its jsonschema).
if ! python3 -c 'import jwt, cryptography, passlib, bcrypt, argon2, openapi_spec_validator, jsonschema' 2>/dev/null; then
  log "installing PyJWT, cryptography, passlib, bcrypt, argon2-cffi and openapi-spec-validator from PyPI"
  python3 -m pip install -q --disable-pip-version-check 'pyjwt[crypto]>=2.8' passlib bcrypt argon2-cffi \
    'openapi-spec-validator>=0.7' >/dev/null
fi
log "tools ready in $TOOLS"
