#!/usr/bin/env bash
# Benchmark (not a test): a snapshot of N images (default 10,000, each with three members and
# a tag) loaded into the mock (PUT /_sharecheck/snapshot), exported again (GET), and the two
# documents compared; then the same export after a reset to fixtures of that size
# (sharecheck mock --fixtures FILE; POST /_sharecheck/reset). The yardstick in the same run is
# a GET of /healthz (one request's fixed cost).
#
# Usage: scripts/bench-snapshot.sh        IMAGES=N (default 10000)
#
# Prints one line per step, `bench: <step>: <ms> ms (<bytes> bytes)`, and exits non-zero
# when a step fails or the exported document differs from the loaded one.
set -euo pipefail

IMAGES=${IMAGES:-10000}
case ${1:-} in
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    "") ;;
    *) echo "bench: unknown argument: $1 (try --help)" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
die() { echo "bench: error: $*" >&2; exit 1; }
command -v curl >/dev/null 2>&1 || die "curl is required"
command -v python3 >/dev/null 2>&1 || die "python3 is required (to write and compare documents)"

echo "bench: cargo build --release" >&2
cargo build --release --quiet || die "cargo build --release failed"
BIN=$TARGET_DIR/release/sharecheck

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-snapshot.XXXXXX")
PID=""
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 - "$IMAGES" "$WORK/snap.json" <<'EOF'
import json, sys, uuid
n, out = int(sys.argv[1]), sys.argv[2]
t = "2026-01-01T00:00:00Z"
images, members = [], []
for i in range(n):
    image = str(uuid.UUID(int=i + 1))
    images.append({
        "id": image, "name": f"bench-{i:05d}", "owner": "proj-owner",
        "visibility": "shared", "protected": False, "os_hidden": False,
        "disk_format": "raw", "container_format": "bare", "min_ram": 0, "min_disk": 0,
        "tags": ["bench"], "properties": {"sharecheck_note": f"n{i}"},
        "created_at": t, "updated_at": t, "created_order": i + 1, "updated_order": i + 1,
    })
    members += [{"image_id": image, "member_id": m, "status": "pending", "created_at": t,
                 "updated_at": t, "added_order": k}
                for k, m in enumerate(("proj-member", "proj-other-member", "proj-stranger"))]
# Every collection, as the mock writes them (the empty ones too).
json.dump({"format": "sharecheck-snapshot", "version": 2, "images": images, "members": members,
           "former_members": [], "tokens": [], "tasks": [], "namespaces": [],
           "resource_types": []}, open(out, "w"))
EOF

# start ARGS...: the mock on a free port; sets BASE.
start() {
    "$BIN" mock --listen 127.0.0.1:0 "$@" >"$WORK/mock.out" 2>"$WORK/mock.err" &
    PID=$!
    local i line
    for ((i = 0; i < 600; i++)); do
        line=$(grep -m1 -o 'listening on http://[^[:space:]]*' "$WORK/mock.out" || true)
        if [ -n "$line" ]; then BASE=${line#listening on }; return 0; fi
        kill -0 "$PID" 2>/dev/null || { cat "$WORK/mock.err" >&2; die "the mock exited"; }
        sleep 0.1
    done
    die "the mock did not start"
}

stop() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; }

# step NAME EXPECTED-STATUS CURL-ARGS...: times one request, prints ms and bytes.
step() {
    local name=$1 want=$2; shift 2
    local out
    out=$(curl -s -o "$WORK/body" -w '%{http_code} %{time_total} %{size_download} %{size_upload}' "$@")
    read -r code secs down up <<<"$out"
    [ "$code" = "$want" ] || { head -c 500 "$WORK/body" >&2; die "$name: status $code, expected $want"; }
    local bytes=$(( down > up ? down : up ))
    printf 'bench: %s: %.0f ms (%s bytes)\n' "$name" "$(python3 -c "print($secs * 1000)")" "$bytes"
}

same() {
    python3 -c 'import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:]); sys.exit(0 if a==b else 1)' "$1" "$2" \
        || die "$3: the exported snapshot differs from the loaded one"
}

start
step "GET /healthz (yardstick)" 200 "$BASE/healthz"
step "PUT snapshot of $IMAGES images" 204 -X PUT -H 'content-type: application/json' --data-binary "@$WORK/snap.json" "$BASE/_sharecheck/snapshot"
step "GET snapshot of $IMAGES images" 200 "$BASE/_sharecheck/snapshot"
cp "$WORK/body" "$WORK/export.json"
same "$WORK/snap.json" "$WORK/export.json" "PUT then GET"
stop

t0=$(date +%s%N)
start --fixtures "$WORK/snap.json"
t1=$(date +%s%N)
echo "bench: start with --fixtures of $IMAGES images: $(( (t1 - t0) / 1000000 )) ms (to listening)"
step "POST reset to $IMAGES fixtures" 204 -X POST "$BASE/_sharecheck/reset"
step "GET snapshot after reset" 200 "$BASE/_sharecheck/snapshot"
same "$WORK/snap.json" "$WORK/body" "reset then GET"
echo "bench: identical after PUT and after reset; target: export and import of 10,000 images under 2 s"
