#!/usr/bin/env bash
# Builds the site that `rampart serve` serves beside itself, into target/site:
#   pkg/rampart.js + pkg/rampart_bg.wasm  the console's hydration code (crate `frontend`,
#                                          compiled to wasm32, then bound by the wasm-bindgen CLI)
#   pkg/rampart.css                        style/main.css
#   favicon.ico, …                         public/
# It does what `cargo leptos build` did for this workspace, without cargo-leptos: that tool
# took 14–28 minutes to build from source on a fresh machine, most of a first `make run`
# (README, "Building without cargo-leptos").
#
#   scripts/build-site.sh [--release]
# --release builds the wasm with the size-tuned `wasm-release` profile and runs wasm-opt.
# Honours CARGO_TARGET_DIR; LEPTOS_SITE_ROOT picks another output folder.
set -euo pipefail
cd "$(dirname "$0")/.."

release=false
[ "${1:-}" = "--release" ] && release=true
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
site="${LEPTOS_SITE_ROOT:-$PWD/target/site}"
log() { printf '[build-site] %s\n' "$*"; }

command -v wasm-bindgen >/dev/null || {
  echo "build-site: the wasm-bindgen CLI is missing; run scripts/install-tools.sh (or make tools)" >&2
  exit 1
}

if $release; then profile=wasm-release; else profile=dev; fi
# cargo names the dev profile's folder `debug`.
out_dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
log "compiling the console's wasm ($profile profile)"
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$profile"

# Everything is written beside the site first and swapped in, so a server running on the
# old site never serves a half-written one.
staging="$site.new"
rm -rf "$staging"
mkdir -p "$staging/pkg"
log "binding it with wasm-bindgen $(wasm-bindgen --version | awk '{print $2}')"
wasm-bindgen --target web --no-typescript --out-name rampart --out-dir "$staging/pkg" \
  "$target_dir/wasm32-unknown-unknown/$out_dir/frontend.wasm"
if $release; then
  command -v wasm-opt >/dev/null || {
    echo "build-site: wasm-opt is missing; run scripts/install-tools.sh" >&2
    exit 1
  }
  log "shrinking it with wasm-opt"
  # The features rustc's wasm32 target enables by default, so wasm-opt accepts the module.
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    -o "$staging/pkg/rampart_bg.wasm" "$staging/pkg/rampart_bg.wasm"
fi
cp style/main.css "$staging/pkg/rampart.css"
cp -r public/. "$staging/"

rm -rf "$site.old"
[ -d "$site" ] && mv "$site" "$site.old"
mv "$staging" "$site"
rm -rf "$site.old"
log "site ready in $site ($(du -sh "$site/pkg/rampart_bg.wasm" | cut -f1) of wasm)"
