#!/usr/bin/env bash
# Real-browser walk-through of Tellwise (see README.md in this folder).
#
# Run from anywhere (normally the repo root):  bash tests/browser/run.sh
#
# Needs: Node >= 20 with npm, Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium),
# and a built binary (cargo build), or TELLWISE_BIN pointing at one. Nothing here downloads a browser.
# Exits non-zero on any failure; the server log is printed when something fails.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
BIN="${TELLWISE_BIN:-$ROOT/target/debug/tellwise}"
ADMIN_EMAIL="admin@school.test"
ADMIN_NAME="Ada Admin"
ADMIN_PASSWORD="browser test password"

say() { printf '[browser-tests] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

START_SECONDS=$SECONDS
WORK=""
SERVER_PID=""
SERVER_LOG=""

cleanup() {
  local status=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -n "$SERVER_LOG" && -s "$SERVER_LOG" ]]; then
    say "---- server log ($SERVER_LOG, last 200 lines) ----"
    tail -n 200 "$SERVER_LOG" >&2 || true
    say "---- end of server log ----"
  fi
  if [[ -n "$WORK" && -d "$WORK" ]]; then
    if [[ $status -ne 0 && -n "${KEEP_WORK_ON_FAILURE:-}" ]]; then
      say "kept work dir $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  if [[ $status -eq 0 ]]; then
    say "PASSED in $((SECONDS - START_SECONDS))s"
  else
    say "FAILED (exit $status) after $((SECONDS - START_SECONDS))s"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- prerequisites
command -v node >/dev/null || die "node is not installed (need Node >= 20: apt-get install -y nodejs npm)"
command -v npm >/dev/null || die "npm is not installed (apt-get install -y npm)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[[ "$node_major" -ge 20 ]] || die "Node $(node --version) is too old; need >= 20"

apt_busy() {
  # dpkg/apt hold these locks while another process installs packages.
  if command -v fuser >/dev/null; then
    fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock >/dev/null 2>&1
  else
    pgrep -x apt-get >/dev/null 2>&1 || pgrep -x apt >/dev/null 2>&1 || pgrep -x dpkg >/dev/null 2>&1
  fi
}

if [[ ! -x "$CHROMIUM" ]]; then
  if apt_busy; then
    say "$CHROMIUM is missing and apt/dpkg is busy (someone may be installing it); waiting up to 10 minutes"
    for _ in $(seq 1 300); do
      apt_busy || break
      sleep 2
    done
  fi
  if [[ ! -x "$CHROMIUM" && "$CHROMIUM" == /usr/bin/chromium && "$(id -u)" -eq 0 ]]; then
    say "installing Debian's chromium with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || true
    apt-get install -y -qq chromium >/dev/null || die "apt-get install -y chromium failed"
  fi
  [[ -x "$CHROMIUM" ]] || die "no Chromium at $CHROMIUM (run: apt-get install -y chromium)"
fi
say "browser: $("$CHROMIUM" --version 2>/dev/null | head -n1 || echo "$CHROMIUM")"

[[ -x "$BIN" ]] || die "no tellwise binary at $BIN (run 'cargo build' in $ROOT, or set TELLWISE_BIN)"

# ---------------------------------------------------------------- node packages
say "installing test packages in $HERE"
(
  cd "$HERE"
  if [[ -f package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
) || die "npm could not install the test packages"

# ---------------------------------------------------------------- server
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tellwise-browser.XXXXXX")"
SERVER_LOG="$WORK/server.log"
export TELLWISE_DATA_DIR="$WORK/data"
export TELLWISE_ADDRESS=127.0.0.1
# One student is a whole group here, so that the report pages show every chart and table to axe.
export TELLWISE_MIN_GROUP_SIZE=1 TELLWISE_ROLLUP_MIN_GROUP_SIZE=1
mkdir -p "$TELLWISE_DATA_DIR"
# Keep the developer's environment from pointing the test server at another database.
unset TELLWISE_DATABASE_URL TELLWISE_PUBLIC_URL TELLWISE_CURRICULUM_DIR TELLWISE_PROFILE || true

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((18000 + RANDOM % 2000))
    if ! port_in_use "$p"; then echo "$p"; return 0; fi
  done
  return 1
}

server_ready() {  # GET $1 answers 200 "ok"
  node -e '
    fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
      .then(async (r) => process.exit(r.status === 200 && (await r.text()).trim() === "ok" ? 0 : 1))
      .catch(() => process.exit(1));' "$1" 2>/dev/null
}

cd "$ROOT"  # so the server finds Rocket.toml
say "creating the admin account"
printf '%s\n' "$ADMIN_PASSWORD" | "$BIN" create-admin --email "$ADMIN_EMAIL" --name "$ADMIN_NAME" >>"$SERVER_LOG" 2>&1 \
  || die "tellwise create-admin failed"

started=""
for attempt in 1 2 3; do
  TELLWISE_PORT="$(pick_port)" || die "could not find a free port"
  export TELLWISE_PORT
  say "starting tellwise on 127.0.0.1:$TELLWISE_PORT (attempt $attempt)"
  "$BIN" serve >>"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 120); do  # about 30 s
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    if server_ready "http://127.0.0.1:$TELLWISE_PORT/health/ready"; then
      started=1; break
    fi
    sleep 0.2
  done
  [[ -n "$started" ]] && break
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    die "server did not become ready within 30 s"
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  say "server exited early (port taken?); retrying"
done
[[ -n "$started" ]] || die "server would not start"
say "server ready"

# ---------------------------------------------------------------- browser tests
export TELLWISE_URL="http://127.0.0.1:$TELLWISE_PORT"
export TELLWISE_ADMIN_EMAIL="$ADMIN_EMAIL" TELLWISE_ADMIN_PASSWORD="$ADMIN_PASSWORD" TELLWISE_ADMIN_NAME="$ADMIN_NAME"
export CHROMIUM_PATH="$CHROMIUM"
cd "$HERE"
node --test --test-reporter=spec student_walkthrough.test.mjs
