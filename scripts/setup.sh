#!/usr/bin/env bash
# Brings node_modules and the generated Prisma client up to date (with the
# argument `bench`, bench/node_modules too). Run by `npm start`, `npm test` and
# `npm run bench` before anything else, so it must be idempotent and cost next
# to nothing when nothing changed: it only compares file times and a hash, and
# runs npm or Prisma only when they have something to do.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "[setup] $*"; }

# --- dependencies -------------------------------------------------------------
# npm writes node_modules/.package-lock.json at the end of every install, so a
# package-lock.json newer than it means the tree is stale (a pull, a branch
# switch, or a dependency someone added).
#
# npm 11 here runs no install scripts unless allowed (it lists them as
# "install-scripts ... not yet covered by allowScripts"); none is needed:
# esbuild, swc and the Temporal core bridge ship their binaries in per-platform
# packages, and Prisma's engine download would fail offline anyway.
install_deps() {
  local log
  log=$(mktemp)
  if npm ci --no-audit --no-fund 2>&1 | tee "$log"; then
    rm -f "$log"
    return
  fi
  # The registry we install from can lag behind on some other-platform builds
  # (e.g. @swc/core-darwin-arm64 at the version @swc/core wants). npm install
  # then leaves them out of package-lock.json, and npm ci refuses the lock with
  # "Missing: NAME@VERSION from lock file" (depending on the npm cache, with or
  # without the version). When that is all it complains about, install from
  # the same lock with npm install, without rewriting it; an "Invalid:" line or
  # any other complaint is a real error.
  if grep -qE '^npm error Missing: .* from lock file$' "$log" &&
    ! grep -qE '^npm error Invalid:' "$log"; then
    say "npm ci refused the lock only for optional packages of other platforms that the registry lacks;"
    say "installing from the same lock with npm install --no-save instead"
    rm -f "$log"
    npm install --no-save --no-audit --no-fund
    return
  fi
  rm -f "$log"
  say "npm ci failed (see above)"
  exit 1
}

# ensure_deps DIR: the package in DIR ("" for the root; bench has its own).
ensure_deps() {
  local dir=${1:+$1/}
  (
    cd "${1:-.}"
    if [[ ! -d node_modules ]]; then
      say "${dir}node_modules is missing: installing dependencies"
      install_deps
    elif [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
      say "${dir}package-lock.json changed since the last install: reinstalling dependencies"
      install_deps
    fi
  )
}

ensure_deps ""
# `bash scripts/setup.sh bench` (npm run bench) also installs the benchmark's
# own package: the peer engines, which nothing else needs.
if [[ "${1:-}" == bench ]]; then
  ensure_deps bench
fi

# --- Prisma client --------------------------------------------------------------
# The client is generated into generated/prisma (gitignored). Regenerate when the
# schema or the Prisma version changed since the last generate; the stamp holds
# the hash of both.
schema=prisma/schema.prisma
stamp=generated/.prisma-schema.sha256
prisma_version=$(node -p "require('prisma/package.json').version")
want="$(sha256sum "$schema" | cut -d' ' -f1) prisma@${prisma_version}"
have=$(cat "$stamp" 2>/dev/null || true)

if [[ "$want" != "$have" || ! -f generated/prisma/client.ts ]]; then
  say "prisma generate (schema or Prisma version changed)"
  out=$(mktemp)
  placeholder=$(mktemp)
  trap 'rm -f "$out" "$placeholder"' EXIT
  if npx --no-install prisma generate >"$out" 2>&1; then
    cat "$out"
  else
    # Offline, the Prisma CLI fails even for `generate`, because it first tries
    # to download its native schema engine, which generate does not use. Any
    # existing file given as that engine gets it past the download. Only for
    # this retry: set for good, it would break `prisma migrate` wherever the
    # real engine can be downloaded.
    say "prisma generate failed (it cannot download its schema engine offline?); retrying with a placeholder PRISMA_SCHEMA_ENGINE_BINARY"
    if ! PRISMA_SCHEMA_ENGINE_BINARY="$placeholder" npx --no-install prisma generate; then
      say "prisma generate failed both ways; the first attempt said:"
      cat "$out" >&2
      exit 1
    fi
  fi
  mkdir -p generated
  echo "$want" >"$stamp"
fi
