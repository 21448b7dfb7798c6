#!/usr/bin/env bash
# Prepares this machine to build, run and test Attention Lens. Idempotent: when everything is
# already in place it only checks and returns (about a second).
#   1. Debian packages (training, Chromium for the UI tests, code-server's native build deps).
#   2. The ripgrep cache that @vscode/ripgrep would otherwise download.
#   3. code-server 4.100.3 in .vscode-test/code-server (git-ignored, not a project dependency).
# Needs root for step 1 when a package is missing. Only Debian's mirrors and the npm registry
# are contacted, and only when something is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CODE_SERVER_VERSION="4.100.3"
CS_DIR="$ROOT/.vscode-test/code-server"
DEB_PACKAGES=(python3-torch python3-onnx python3-numpy libopenblas0-pthread python3-regex
  chromium libkrb5-dev ripgrep)

log() { printf '[setup] %s\n' "$*"; }

# 1. Debian packages --------------------------------------------------------------------------
missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { log "not root and no sudo: install ${missing[*]} by hand"; exit 1; }
    SUDO="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  log "Debian packages present"
fi

# 2. ripgrep cache (vscode-ripgrep's postinstall looks here before downloading) ----------------
TMP_DIR="$(node -p 'require("os").tmpdir()')"
RG_CACHE="$TMP_DIR/vscode-ripgrep-cache-1.15.11"
RG_TARBALL="$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [[ ! -s "$RG_TARBALL" ]]; then
  log "seeding $RG_TARBALL from /usr/bin/rg"
  mkdir -p "$RG_CACHE"
  staging="$(mktemp -d)"
  cp /usr/bin/rg "$staging/rg"
  tar -czf "$RG_TARBALL" -C "$staging" rg
  rm -rf "$staging"
fi

# 3. code-server --------------------------------------------------------------------------------
CS_BIN="$CS_DIR/node_modules/.bin/code-server"
installed_version=""
if [[ -f "$CS_DIR/node_modules/code-server/package.json" ]]; then
  installed_version="$(node -p "require('$CS_DIR/node_modules/code-server/package.json').version")"
fi
if [[ "$installed_version" != "$CODE_SERVER_VERSION" || ! -x "$CS_BIN" ]]; then
  log "installing code-server@$CODE_SERVER_VERSION into .vscode-test/code-server (about a minute)"
  mkdir -p "$CS_DIR"
  if [[ ! -f "$CS_DIR/package.json" ]]; then
    printf '{\n  "name": "attention-lens-code-server",\n  "private": true,\n  "description": "code-server for tests and npm start; not a dependency of the extension"\n}\n' \
      >"$CS_DIR/package.json"
  fi
  (
    cd "$CS_DIR"
    npm_config_unsafe_perm=true npm_config_yes=true npm install --no-audit --no-fund \
      --loglevel=error "code-server@$CODE_SERVER_VERSION"
  )
  "$CS_BIN" --version >/dev/null
else
  log "code-server $installed_version present"
fi
log "ready"
