#!/usr/bin/env bash
# Benchmark (not a test): the mock holding many memberships. IMAGES shared images (default
# 10,000, loaded as fixtures) get PER_IMAGE members each (default 100: 1,000,000 in all),
# added over HTTP by wrk (-t1 -c32), then:
#   - add rate over the first 5% of the rows and over the last 5% (flat = about the same),
#   - GET one member with 5% of the rows in and with all of them,
#   - the mock's resident memory (VmRSS) with all rows in,
#   - delete rate over the first 5% of the rows, with all the others in,
#   - with --state, the directory's size and a restart's time (after kill -9): wall time
#     until it listens, and the CPU time it took (steady when other work shares the cores).
# IMAGES=1 PER_IMAGE=200000 puts every row on one image.
#
# Usage: scripts/bench-scale.sh [--state | --seeded]
#   --state   the mock keeps its state in a fresh directory (`--state DIR`)
#   --seeded  the memberships come with the fixtures (no HTTP): the first start writes them
#             to a fresh state directory, then only the restart after kill -9 is timed
#   DURATION=5s   length of each GET run
#
# Prints `bench: <what>: <number> <unit>` lines; exits non-zero when a step fails or wrk
# sees a non-2xx answer.
set -euo pipefail

IMAGES=${IMAGES:-10000}
PER_IMAGE=${PER_IMAGE:-100}
DURATION=${DURATION:-5s}
STATE=0
for arg in "$@"; do
    case $arg in
        --state) STATE=1 ;;
        --seeded) SEEDED=1; STATE=1 ;;
        -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench: unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
die() { echo "bench: error: $*" >&2; exit 1; }
for tool in wrk curl python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is required (Debian: apt-get install -y $tool)"
done

echo "bench: cargo build --release" >&2
cargo build --release --quiet || die "cargo build --release failed"
BIN=$TARGET_DIR/release/sharecheck

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-scale.XXXXXX")
PID=""
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 - "$IMAGES" "$WORK/fixtures.json" "$WORK/ids.txt" "${SEEDED:+$PER_IMAGE}" <<'EOF'
import json, sys, uuid
n, out, ids = int(sys.argv[1]), sys.argv[2], sys.argv[3]
per_image = int(sys.argv[4] or 0)  # --seeded: the members are in the fixtures
t = "2026-01-01T00:00:00Z"
images = [{"id": str(uuid.UUID(int=i + 1)), "name": f"scale-{i:05d}", "owner": "proj-owner",
           "visibility": "shared", "created_at": t, "updated_at": t} for i in range(n)]
members = [{"image_id": img["id"], "member_id": f"proj-m{m}", "created_at": t, "updated_at": t}
           for m in range(per_image) for img in images]
json.dump({"format": "sharecheck-snapshot", "version": 2, "images": images, "members": members},
          open(out, "w"))
open(ids, "w").write("".join(i["id"] + "\n" for i in images))
EOF

ARGS=(mock --listen 127.0.0.1:0 --member-quota -1 --fixtures "$WORK/fixtures.json")
MODE=in-memory
if [ "$STATE" = 1 ]; then ARGS+=(--state "$WORK/state"); MODE=--state; fi
# start_mock: the mock with ARGS, waited for (<= 60 s) until it listens; sets PID and BASE.
start_mock() {
    "$BIN" "${ARGS[@]}" >"$WORK/mock.out" 2>"$WORK/mock.err" &
    PID=$!
    for ((i = 0; i < 1200; i++)); do
        grep -q 'listening on' "$WORK/mock.out" 2>/dev/null && break
        kill -0 "$PID" 2>/dev/null || { cat "$WORK/mock.err" >&2; die "the mock exited"; }
        sleep 0.05
    done
    BASE=$(sed -n 's/^listening on //p' "$WORK/mock.out")
    [ -n "$BASE" ] || die "the mock did not start"
}
t0=$(date +%s.%N)
start_mock
t1=$(date +%s.%N)
# cpu_of PID: the CPU time (user + system) the process has used, in seconds.
cpu_of() {
    awk -v tck="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / tck}' "/proc/$1/stat"
}

# restart: kill -9, then time until the new mock listens (wall and the mock's CPU).
restart() {
    echo "bench: state directory: $(du -sm "$WORK/state" | cut -f1) MB"
    kill -9 "$PID"; wait "$PID" 2>/dev/null || true
    t0=$(date +%s.%N)
    start_mock
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v c="$(cpu_of "$PID")" -v n="$1" \
        'BEGIN {printf "bench: restart with %d memberships after kill -9 until listening (--state): %.1f s (CPU %.1f s)\n", n, b - a, c}'
}

if [ -n "${SEEDED:-}" ]; then
    awk -v a="$t0" -v b="$t1" -v n=$((IMAGES * PER_IMAGE)) \
        'BEGIN {printf "bench: first start, writing %d memberships from the fixtures: %.1f s\n", n, b - a}'
    # The directory holds the state: the restart reads it alone (parsing a 150 MB fixture
    # file again would time the fixtures, not the store).
    ARGS=(mock --listen 127.0.0.1:0 --member-quota -1 --state "$WORK/state")
    restart $((IMAGES * PER_IMAGE))
    exit 0
fi

# The Lua script: request n (FIRST <= n < LAST) names image n mod IMAGES and project
# proj-m<n div IMAGES>; past LAST it asks for /healthz. Once LAST - FIRST answers are in it
# prints how many were not 2xx and exits (wrk itself only stops after its duration).
cat >"$WORK/rows.lua" <<'EOF'
local images = {}
for line in io.lines(os.getenv("IDS")) do images[#images + 1] = line end
local method, first, last = os.getenv("METHOD"), tonumber(os.getenv("FIRST")), tonumber(os.getenv("LAST"))
-- wrk 4 calls request() once, before sending anything, to check what it returns.
local n = first - 2
request = function()
    n = n + 1
    if n >= last then return wrk.format("GET", "/healthz") end
    local image, member = images[n % #images + 1], "proj-m" .. math.floor(n / #images)
    if method == "POST" then
        return wrk.format("POST", "/v2/images/" .. image .. "/members",
            {["Content-Type"] = "application/json", ["X-Auth-Token"] = "owner-token"}, '{"member": "' .. member .. '"}')
    end
    return wrk.format(method, "/v2/images/" .. image .. "/members/" .. member)
end
local answered, bad = 0, 0
response = function(status)
    answered = answered + 1
    if status >= 300 then bad = bad + 1 end
    if answered >= last - first then
        io.write("bad ", bad, "\n")
        io.flush()
        os.exit(0)
    end
end
EOF

# rows METHOD FIRST LAST LABEL: requests FIRST..LAST-1; prints the rate.
rows() {
    local out t0 t1
    t0=$(date +%s.%N)
    out=$(IDS=$WORK/ids.txt METHOD=$1 FIRST=$2 LAST=$3 wrk -t1 -c32 -d3600s --timeout 10s \
        -H 'X-Auth-Token: owner-token' -s "$WORK/rows.lua" "$BASE") || die "wrk failed"
    t1=$(date +%s.%N)
    grep -qx 'bad 0' <<<"$out" || die "$4: answers that were not 2xx: $out"
    awk -v n=$(($3 - $2)) -v a="$t0" -v b="$t1" -v l="$4" -v m="$MODE" \
        'BEGIN {printf "bench: %s (%s): %d requests/s (%d in %.1f s)\n", l, m, n / (b - a), n, b - a}'
}

show() {
    local out rate
    out=$(wrk -t1 -c32 -d"$DURATION" -H 'X-Auth-Token: owner-token' \
        "$BASE/v2/images/$(head -1 "$WORK/ids.txt")/members/proj-m0") || die "wrk failed"
    grep -q 'Non-2xx' <<<"$out" && die "$1: $(grep 'Non-2xx' <<<"$out")"
    rate=$(awk '/^Requests\/sec:/ {printf "%d", $2}' <<<"$out")
    echo "bench: $1 ($MODE): $rate requests/s"
}

TOTAL=$((IMAGES * PER_IMAGE))
FIVE=$((TOTAL / 20))
echo "bench: $IMAGES images x $PER_IMAGE members = $TOTAL rows, mock at $BASE" >&2
rows POST 0 "$FIVE" "add, rows 0 to $FIVE"
show "GET member with $FIVE rows"
rows POST "$FIVE" $((TOTAL - FIVE)) "add, rows $FIVE to $((TOTAL - FIVE))"
rows POST $((TOTAL - FIVE)) "$TOTAL" "add, rows $((TOTAL - FIVE)) to $TOTAL"
show "GET member with $TOTAL rows"
RSS=$(awk '/^VmRSS:/ {printf "%d", $2 / 1024}' "/proc/$PID/status")
echo "bench: resident memory with $TOTAL memberships ($MODE): $RSS MB"
rows DELETE 0 "$FIVE" "delete, rows 0 to $FIVE of $TOTAL"
if [ "$STATE" = 1 ]; then
    restart $((TOTAL - FIVE))
fi
