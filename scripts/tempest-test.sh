#!/usr/bin/env bash
# Run Tempest's own image API suite (tempest.api.image.v2) against the mock, through the
# mock's built-in Keystone, with pre-provisioned accounts (no dynamic credentials); and,
# with --glance, against the reference Glance as well, and require that every test passing
# on Glance passes on the mock.
#
#   scripts/tempest-test.sh [--glance [--profile production|production-lax]] [--out DIR]
#
# With --profile production (or production-lax, the same with require_image_format_match
# off), Glance runs in reference-glance.sh's profile of that name (four
# stores, locations shown, three import methods, a loopback import source served here,
# Glance's metadata definitions), Tempest is told so (multi-store, locations, the http store,
# os_glance reserved, a reachable http_image), and the mock is started with the same glance-api.conf
# (`mock --glance-config`): Glance runs first, as its configuration is written when it starts.
#
# Against Glance the mock still serves Keystone: its identities file names Glance as the
# catalog's image endpoint (`image_endpoint`), and Glance's identity filter validates the
# tokens at the mock's /v3 (scripts/reference-glance.sh --keystone). Nothing leaves
# loopback: Tempest's web-download URLs point at a closed local port.
#
# Writes DIR/tempest-mock.txt (and DIR/tempest-glance.txt): one `STATUS TEST-ID` line per
# test of the suite, STATUS one of ok, FAILED, SKIPPED (a test whose class set-up failed
# is FAILED; one whose class was skipped is SKIPPED). Exit 1 when a test passing on Glance
# does not pass on the mock, or (without --glance) when nothing passed.
#
# Environment:
#   SHARECHECK_TEMPEST_HOME  venv root (default ~/.cache/sharecheck/tempest)
#   SHARECHECK_PYTHON        interpreter for the venv (default python3; needs >= 3.10)
#   SHARECHECK_BIN           the sharecheck binary (default target/debug/sharecheck)
#   SHARECHECK_TEMPEST_GLANCE_STATE  state dir of the Glance started with --glance
#                            (default target/tempest-glance-state)
#   SHARECHECK_TEMPEST_GLANCE_PORT, SHARECHECK_TEMPEST_SOURCE_PORT  Glance's port (9395)
#                            and the production profile's import source's (9396)
set -euo pipefail

TEMPEST_VERSION=47.0.0
GLANCE_PORT=${SHARECHECK_TEMPEST_GLANCE_PORT:-9395}
RUN_TIMEOUT=1200

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
THOME=${SHARECHECK_TEMPEST_HOME:-${HOME:-/root}/.cache/sharecheck/tempest}
VENV=$THOME/venv
CONSTRAINTS=$SCRIPT_DIR/tempest-constraints.txt
BIN=${SHARECHECK_BIN:-$ROOT/target/debug/sharecheck}

die() { echo "tempest-test: error: $*" >&2; exit 1; }
info() { echo "tempest-test: $*" >&2; }

usage() {
  echo "usage: $0 [--glance [--profile production|production-lax]] [--out DIR]" >&2
  exit 2
}

WITH_GLANCE=false
PROFILE=
SOURCE_PORT=${SHARECHECK_TEMPEST_SOURCE_PORT:-9396}
OUT=$ROOT/reports
while [[ $# -gt 0 ]]; do
  case $1 in
    --glance) WITH_GLANCE=true; shift ;;
    --profile) [[ $# -ge 2 ]] || usage; PROFILE=$2; shift 2 ;;
    --out) [[ $# -ge 2 ]] || usage; OUT=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "tempest-test: unknown option '$1'" >&2; usage ;;
  esac
done
[[ -z $PROFILE || ($PROFILE == production* && $WITH_GLANCE == true) ]] \
  || die "--profile takes production or production-lax, with --glance"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

ensure_venv() {
  local stamp=$VENV/.sharecheck-tempest-$TEMPEST_VERSION
  [[ -f $stamp && -x $VENV/bin/tempest ]] && return 0
  local py=${SHARECHECK_PYTHON:-python3}
  command -v "$py" >/dev/null 2>&1 || die "python interpreter '$py' not found (set SHARECHECK_PYTHON)"
  info "creating virtualenv $VENV ($("$py" --version 2>&1))"
  rm -rf "$VENV"
  mkdir -p "$THOME"
  "$py" -m venv "$VENV" 2>"$THOME/venv.err" \
    || { cat "$THOME/venv.err" >&2; die "'$py -m venv' failed (on Debian: apt-get install python3-venv)"; }
  local pip=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input -q)
  "${pip[@]}" install --upgrade pip setuptools wheel || die "could not upgrade pip in $VENV"
  local cargs=()
  [[ -f $CONSTRAINTS ]] && cargs=(-c "$CONSTRAINTS")
  info "pip install tempest==$TEMPEST_VERSION"
  "${pip[@]}" install "${cargs[@]}" "tempest==$TEMPEST_VERSION" \
    || die "pip install of tempest failed (is PyPI reachable?)"
  touch "$stamp"
}

WORK=
MOCK_PID=
GLANCE_STARTED=false
cleanup() {
  if [[ -n $MOCK_PID ]] && kill -0 "$MOCK_PID" 2>/dev/null; then
    kill -TERM "$MOCK_PID" 2>/dev/null || true
    wait "$MOCK_PID" 2>/dev/null || true
  fi
  if $GLANCE_STARTED; then "$SCRIPT_DIR/reference-glance.sh" stop >/dev/null 2>&1 || true; fi
  [[ -n ${SOURCES_PID:-} ]] && kill "$SOURCES_PID" 2>/dev/null
  [[ -n $WORK ]] && rm -rf "$WORK"
}
trap cleanup EXIT

# start_mock IDENTITIES [ARGS...]: a mock on a free loopback port; sets URL.
start_mock() {
  local ids=$1; shift
  # Emptied first: a second mock must not be found at the address the first one printed.
  : >"$WORK/mock.out"
  "$BIN" mock --listen 127.0.0.1:0 --identities "$ids" "$@" >"$WORK/mock.out" 2>"$WORK/mock.err" &
  MOCK_PID=$!
  for _ in $(seq 1 100); do
    URL=$(sed -n 's/^listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$WORK/mock.out")
    [[ -n $URL ]] && return 0
    kill -0 "$MOCK_PID" 2>/dev/null || { cat "$WORK/mock.err" >&2; die "the mock exited"; }
    sleep 0.1
  done
  die "the mock did not say where it listens within 10 s"
}

stop_mock() {
  kill -TERM "$MOCK_PID" 2>/dev/null || true
  wait "$MOCK_PID" 2>/dev/null || true
  MOCK_PID=
}

PERSONAS=(owner member other-member stranger admin)

# write_identities FILE [IMAGE_ENDPOINT]: the built-in personas (see README), as a file.
write_identities() {
  {
    echo "tokens:"
    for p in "${PERSONAS[@]}"; do
      echo "  $p-token: {project_id: proj-$p, user_id: user-$p, roles: [$(roles_of "$p")]}"
    done
    echo "  reader-token: {project_id: proj-owner, user_id: user-reader, roles: [reader]}"
    echo "projects:"
    for p in "${PERSONAS[@]}"; do echo "  proj-$p: {name: $p}"; done
    echo "users:"
    for p in "${PERSONAS[@]}"; do
      echo "  $p: {id: user-$p, password: $p-secret, project_id: proj-$p, roles: [$(roles_of "$p")]}"
    done
    echo "  reader: {id: user-reader, password: reader-secret, project_id: proj-owner, roles: [reader]}"
    if [[ -n ${2:-} ]]; then echo "image_endpoint: $2"; fi
  } >"$1"
}
roles_of() { [[ $1 == admin ]] && echo "admin, member, reader" || echo "member, reader"; }

# Tempest's accounts: its primary is the owner (the project with a member and a reader),
# `alt` the first free non-admin account (member), project_reader the reader. The `roles`
# here only steer that allocation; the roles a token carries come from the mock.
write_accounts() {
  cat >"$1" <<'EOF'
- {username: owner, project_name: owner, password: owner-secret, domain_name: Default, roles: [member, reader]}
- {username: member, project_name: member, password: member-secret, domain_name: Default, roles: [member]}
- {username: other-member, project_name: other-member, password: other-member-secret, domain_name: Default, roles: [member]}
- {username: stranger, project_name: stranger, password: stranger-secret, domain_name: Default, roles: [member]}
- {username: reader, project_name: owner, password: reader-secret, domain_name: Default, roles: [reader]}
- {username: admin, project_name: admin, password: admin-secret, domain_name: Default, roles: [admin], types: [admin]}
EOF
}

# write_conf WORKSPACE: tempest.conf for the Keystone at $URL/v3.
write_conf() {
  cat >"$1/etc/tempest.conf" <<EOF
[DEFAULT]
log_file = $1/tempest.log
[auth]
use_dynamic_credentials = false
test_accounts_file = $1/etc/accounts.yaml
default_credentials_domain_name = Default
[identity]
uri_v3 = $URL/v3
auth_version = v3
[identity-feature-enabled]
api_v2 = false
[service_available]
glance = true
nova = false
cinder = false
neutron = false
swift = false
[oslo_concurrency]
lock_path = $1/locks
EOF
  if [[ $PROFILE == production* ]]; then
    cat >>"$1/etc/tempest.conf" <<EOF
[image]
build_timeout = 60
image_caching_enabled = true
http_image = http://127.0.0.1:$SOURCE_PORT/sharecheck.img
http_qcow2_image = http://127.0.0.1:$SOURCE_PORT/sharecheck.qcow2
[image-feature-enabled]
import_image = true
os_glance_reserved = true
manage_locations = true
http_store_enabled = true
EOF
    # production-lax: Glance takes data whatever its format (require_image_format_match off).
    if [[ $PROFILE == production-lax ]]; then
      echo "image_format_enforcement = false" >>"$1/etc/tempest.conf"
    fi
  else
    cat >>"$1/etc/tempest.conf" <<EOF
[image]
build_timeout = 30
image_caching_enabled = true
http_image = http://127.0.0.1:9/sharecheck-unreachable.img
http_qcow2_image = http://127.0.0.1:9/sharecheck-unreachable.qcow2
[image-feature-enabled]
import_image = true
EOF
  fi
}

# serve_sources: the import source of the production profile, on 127.0.0.1:$SOURCE_PORT.
serve_sources() {
  mkdir -p "$WORK/sources"
  head -c 1048576 /dev/zero >"$WORK/sources/sharecheck.img"
  "$VENV/bin/python" - "$WORK/sources/sharecheck.qcow2" <<'PY'
import struct, sys
h = bytearray(512)
h[0:4] = b"QFI\xfb"; h[4:8] = struct.pack(">I", 3); h[24:32] = struct.pack(">Q", 1 << 20)
open(sys.argv[1], "wb").write(bytes(h))
PY
  (cd "$WORK/sources" && exec "$VENV/bin/python" -m http.server "$SOURCE_PORT" --bind 127.0.0.1) \
    >"$WORK/sources.log" 2>&1 &
  SOURCES_PID=$!
}

# run_tempest NAME: the suite against the Keystone at $URL; writes $OUT/tempest-NAME.txt.
run_tempest() {
  local name=$1 ws=$WORK/ws-$1
  # A workspace file of our own: nothing is registered in ~/.tempest.
  "$VENV/bin/tempest" init --workspace-path "$WORK/workspace.yaml" "$ws" >"$WORK/init.log" 2>&1 \
    || { cat "$WORK/init.log" >&2; die "tempest init $ws failed"; }
  write_accounts "$ws/etc/accounts.yaml"
  write_conf "$ws"
  info "tempest run --regex '^tempest\\.api\\.image\\.v2' against $name ($URL/v3)"
  (cd "$ws" && "$VENV/bin/tempest" run --list-tests --regex '^tempest\.api\.image\.v2' 2>/dev/null) \
    | grep '^tempest\.api\.image\.v2' | sed 's/\[.*$//' | sort -u >"$WORK/$name.all"
  [[ -s $WORK/$name.all ]] || die "tempest listed no tests of tempest.api.image.v2"
  (cd "$ws" && timeout "$RUN_TIMEOUT" "$VENV/bin/tempest" run --concurrency 1 \
    --regex '^tempest\.api\.image\.v2' >"$OUT/tempest-$name.log" 2>&1) || true
  grep -q '^Totals' "$OUT/tempest-$name.log" \
    || { tail -n 30 "$OUT/tempest-$name.log" >&2; die "tempest did not finish against $name"; }
  "$VENV/bin/python" - "$WORK/$name.all" "$OUT/tempest-$name.log" >"$OUT/tempest-$name.txt" <<'PY'
import re, sys
tests = [t.strip() for t in open(sys.argv[1]) if t.strip()]
status = {}
classes = {}
line = re.compile(r'^\{\d+\} (setUpClass \((?P<cls>[\w.]+)\)|(?P<test>[\w.]+))'
                  r'(?: \[[^\]]*\])? \.\.\. (?P<st>ok|FAILED|SKIPPED)')
for l in open(sys.argv[2], errors='replace'):
    m = line.match(l)
    if not m:
        continue
    if m['cls']:
        classes[m['cls']] = m['st']
    else:
        status[m['test']] = m['st']
for t in tests:
    st = status.get(t) or classes.get(t.rsplit('.', 1)[0]) or 'FAILED'
    print(st, t)
PY
  local n ok skip
  n=$(wc -l <"$OUT/tempest-$name.txt")
  ok=$(grep -c '^ok ' "$OUT/tempest-$name.txt" || true)
  skip=$(grep -c '^SKIPPED ' "$OUT/tempest-$name.txt" || true)
  info "$name: $n tests, $ok passed, $skip skipped, $((n - ok - skip)) failed (log: $OUT/tempest-$name.log)"
}

started=$(date +%s)
ensure_venv
if [[ ! -x $BIN ]]; then
  info "building $BIN (cargo build)"
  (cd "$ROOT" && cargo build --quiet) || die "cargo build failed"
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sharecheck-tempest.XXXXXX")

run_on_glance() {
  write_identities "$WORK/ids-glance.yaml" "http://127.0.0.1:$GLANCE_PORT"
  start_mock "$WORK/ids-glance.yaml"
  export SHARECHECK_GLANCE_STATE=${SHARECHECK_TEMPEST_GLANCE_STATE:-$ROOT/target/tempest-glance-state}
  GLANCE_STARTED=true
  local profile=()
  [[ -n $PROFILE ]] && profile=(--profile "$PROFILE" --source-port "$SOURCE_PORT")
  "$SCRIPT_DIR/reference-glance.sh" start --port "$GLANCE_PORT" --member-quota 128 \
    --keystone "$URL/v3" "${profile[@]}"
  run_tempest glance
  cp "$SHARECHECK_GLANCE_STATE/glance-api.conf" "$WORK/glance-api.conf"
  "$SCRIPT_DIR/reference-glance.sh" stop >/dev/null 2>&1 || true
  GLANCE_STARTED=false
  stop_mock
}

if [[ -n $PROFILE ]]; then
  serve_sources
  run_on_glance
  write_identities "$WORK/ids-mock.yaml"
  # Glance's shipped metadata definitions, as the project's fixture holds them (names,
  # resource type associations), stand for glance-manage db_load_metadefs.
  start_mock "$WORK/ids-mock.yaml" --member-quota 128 --glance-config "$WORK/glance-api.conf" \
    --fixtures "$ROOT/examples/shipped-metadefs.json"
  run_tempest mock
  stop_mock
else
  write_identities "$WORK/ids-mock.yaml"
  start_mock "$WORK/ids-mock.yaml"
  run_tempest mock
  stop_mock
  if $WITH_GLANCE; then run_on_glance; fi
fi

if $WITH_GLANCE; then
  missing=$(comm -23 <(sed -n 's/^ok //p' "$OUT/tempest-glance.txt" | sort) \
    <(sed -n 's/^ok //p' "$OUT/tempest-mock.txt" | sort))
  if [[ -n $missing ]]; then
    echo "tempest-test: passing on Glance but not on the mock:" >&2
    sed 's/^/  /' <<<"$missing" >&2
    exit 1
  fi
  info "every test passing on Glance passes on the mock"
elif ! grep -q '^ok ' "$OUT/tempest-mock.txt"; then
  die "no Tempest test passed against the mock"
fi
info "done in $(($(date +%s) - started)) s"
