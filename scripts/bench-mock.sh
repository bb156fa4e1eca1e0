#!/usr/bin/env bash
# Benchmark (not a test): throughput of the mock on
#   GET /v2/images/{id}/members/{member_id}   (X-Auth-Token: owner-token)
# under `wrk -t1 -c32`, on loopback.
#
# Usage: scripts/bench-mock.sh [--baseline] [--state] [--adds]
#   DURATION=10s   wrk run length (default 10s)
#   PORT=N         listen port for the mock (default 0: the mock picks a free one)
#   --baseline     also run the same wrk against a trivial warp server returning a fixed
#                  body (built once, offline, from the crates in Cargo.lock, under
#                  target/bench-baseline/), for comparison.
#   --state        run the mock with `--state DIR` (a fresh directory), durable writes
#   --adds         also time acknowledged member adds: POST /v2/images/{id}/members with a
#                  new project each time, spread over 10 images (no member quota)
#
# Prints wrk's output and a final line per run, like
#   bench: GET member with auth: NNNNN requests/s (wrk -t1 -c32, 10s)
# Exits non-zero if setup fails or wrk reports non-2xx/3xx responses or socket errors.
set -euo pipefail

DURATION=${DURATION:-10s}
PORT=${PORT:-0}
BASELINE=0
STATE=0
ADDS=0
for arg in "$@"; do
    case $arg in
        --baseline) BASELINE=1 ;;
        --state) STATE=1 ;;
        --adds) ADDS=1 ;;
        -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench: unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

die() { echo "bench: error: $*" >&2; exit 1; }

if ! command -v wrk >/dev/null 2>&1; then
    echo "bench: wrk not found; installing the Debian package" >&2
    [ "$(id -u)" = 0 ] || die "wrk is missing and we are not root; install it: apt-get install -y wrk"
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null || die "apt-get install wrk failed"
fi
command -v curl >/dev/null 2>&1 || die "curl is required"

echo "bench: cargo build --release" >&2
cargo build --release --quiet || die "cargo build --release failed"
BIN=$TARGET_DIR/release/sharecheck
[ -x "$BIN" ] || die "no binary at $BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-mock.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME CMD...: runs CMD with stdout to $WORK/NAME.out and waits (<=30 s) for its
# `listening on http://ADDR` line; sets URL_BASE and SERVER_PID.
start_server() {
    local name=$1; shift
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    local pid=$!
    PIDS+=("$pid")
    SERVER_PID=$pid
    local i line
    for ((i = 0; i < 300; i++)); do
        line=$(grep -m1 -o 'listening on http://[^[:space:]]*' "$WORK/$name.out" || true)
        if [ -n "$line" ]; then
            URL_BASE=${line#listening on }
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$WORK/$name.err" >&2
            die "$name exited before it was listening"
        fi
        sleep 0.1
    done
    cat "$WORK/$name.err" >&2
    die "$name did not print 'listening on http://...' within 30 s"
}

# cpu_ticks PID: user+system CPU time of PID so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run_wrk LABEL PID URL: runs wrk against URL (served by PID), prints its output and the
# summary line, checks for errors. Also prints the server's CPU time per request, which is
# less sensitive than requests/s to other load on the machine.
run_wrk() {
    local label=$1 pid=$2 url=$3 out rps reqs t0 t1
    shift 3
    echo "bench: wrk -t1 -c32 -d$DURATION $* $url" >&2
    t0=$(cpu_ticks "$pid")
    out=$(wrk -t1 -c32 -d"$DURATION" -H 'X-Auth-Token: owner-token' \
        -H 'Accept: application/json' "$@" "$url") || die "wrk failed"
    t1=$(cpu_ticks "$pid")
    echo "$out"
    rps=$(awk '/^Requests\/sec:/ {printf "%d", $2}' <<<"$out")
    reqs=$(awk '/ requests in / {print $1}' <<<"$out")
    [ -n "$rps" ] && [ -n "$reqs" ] || die "could not read Requests/sec from wrk's output"
    [ "$reqs" -gt 0 ] || die "$label: no requests completed"
    awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v n="$reqs" -v l="$label" \
        'BEGIN {printf "bench: %s: server CPU %.1f us/request\n", l, t / hz * 1e6 / n}'
    echo "bench: $label: $rps requests/s (wrk -t1 -c32, $DURATION)"
    if grep -q 'Non-2xx or 3xx responses' <<<"$out"; then
        die "$label: wrk saw non-2xx/3xx responses: $(grep 'Non-2xx' <<<"$out")"
    fi
    if grep -q 'Socket errors' <<<"$out"; then
        die "$label: wrk saw socket errors: $(grep 'Socket errors' <<<"$out")"
    fi
}

# ----- the mock -----------------------------------------------------------------------------
MOCK_ARGS=(--member-quota -1)
[ "$STATE" = 1 ] && MOCK_ARGS+=(--state "$WORK/state")
start_server mock "$BIN" mock --listen "127.0.0.1:$PORT" "${MOCK_ARGS[@]}"
MOCK_PID=$SERVER_PID
MOCK_BASE=$URL_BASE
MODE=in-memory
[ "$STATE" = 1 ] && MODE="--state"
case $URL_BASE in
    http://127.0.0.1:*) ;;
    *) die "mock listens on $URL_BASE, expected loopback" ;;
esac
echo "bench: mock at $URL_BASE" >&2

CURL=(curl -sS --max-time 5 -H 'X-Auth-Token: owner-token' -H 'Accept: application/json')
code=$("${CURL[@]}" -o "$WORK/image.json" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' -d '{"name":"bench","visibility":"shared"}' \
    "$URL_BASE/v2/images") || die "POST /v2/images: request failed"
[ "$code" = 201 ] || die "POST /v2/images answered $code: $(cat "$WORK/image.json")"
IMAGE_ID=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$WORK/image.json")
[ -n "$IMAGE_ID" ] || die "no id in the create response: $(cat "$WORK/image.json")"

code=$("${CURL[@]}" -o "$WORK/member.json" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' -d '{"member":"proj-member"}' \
    "$URL_BASE/v2/images/$IMAGE_ID/members") || die "POST members: request failed"
[ "$code" = 200 ] || die "POST /v2/images/$IMAGE_ID/members answered $code: $(cat "$WORK/member.json")"

URL=$URL_BASE/v2/images/$IMAGE_ID/members/proj-member
code=$("${CURL[@]}" -o "$WORK/get.json" -w '%{http_code}' "$URL") || die "GET member: request failed"
[ "$code" = 200 ] || die "GET $URL answered $code: $(cat "$WORK/get.json")"

# ----- optional baseline: a stateless warp server with a fixed body ------------------------
if [ "$BASELINE" = 1 ]; then
    BDIR=$TARGET_DIR/bench-baseline
    mkdir -p "$BDIR/src"
    cp Cargo.lock "$BDIR/Cargo.lock"
    cat >"$BDIR/Cargo.toml" <<'EOF'
[package]
name = "bench-baseline"
version = "0.0.0"
edition = "2024"
[dependencies]
tokio = { version = "1", features = ["rt-multi-thread", "macros", "net"] }
warp = { version = "0.4", features = ["server"] }
[workspace]
EOF
    cat >"$BDIR/src/main.rs" <<'EOF'
use warp::Filter;
#[tokio::main]
async fn main() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("listening on http://{}", l.local_addr().unwrap());
    let body = r#"{"created_at":"2025-01-01T00:00:00Z","image_id":"00000000-0000-0000-0000-000000000000","member_id":"proj-member","schema":"/v2/schemas/member","status":"pending","updated_at":"2025-01-01T00:00:00Z"}"#;
    let f = warp::any().map(move || warp::reply::with_header(body, "content-type", "application/json"));
    warp::serve(f).incoming(l).run().await;
}
EOF
    echo "bench: building the baseline server (offline)" >&2
    cargo build --release --quiet --offline --manifest-path "$BDIR/Cargo.toml" \
        --target-dir "$BDIR/target" || die "baseline build failed"
    start_server baseline "$BDIR/target/release/bench-baseline"
    run_wrk "baseline fixed body (warp)" "$SERVER_PID" "$URL_BASE/v2/images/x/members/proj-member"
fi

run_wrk "GET member with auth ($MODE)" "$MOCK_PID" "$URL"

if [ "$ADDS" = 1 ]; then
    IMAGES=()
    for i in $(seq 10); do
        "${CURL[@]}" -o "$WORK/image.json" -X POST -H 'Content-Type: application/json' \
            -d "{\"name\":\"bench-add-$i\",\"visibility\":\"shared\"}" "$MOCK_BASE/v2/images" \
            || die "POST /v2/images failed"
        IMAGES+=("\"$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$WORK/image.json")\"")
    done
    cat >"$WORK/adds.lua" <<EOF
local images = {$(IFS=,; echo "${IMAGES[*]}")}
local n = 0
request = function()
    n = n + 1
    local path = "/v2/images/" .. images[n % #images + 1] .. "/members"
    return wrk.format("POST", path, {["Content-Type"] = "application/json", ["X-Auth-Token"] = "owner-token"},
        '{"member": "proj-bench-' .. n .. '"}')
end
EOF

    run_wrk "POST member, acknowledged ($MODE)" "$MOCK_PID" "$MOCK_BASE" -s "$WORK/adds.lua"
    if [ "$STATE" = 1 ]; then
        echo "bench: state directory after the run: $(du -sh "$WORK/state" | cut -f1)"
    fi
fi
