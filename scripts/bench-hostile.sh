#!/usr/bin/env bash
# Benchmark (not a test): throughput of the hostile run on the embedded mock, in a release
# build, next to a baseline of the same number of plain `GET /v2/images` sent by the same
# client set-up (same workers, same kept-alive connections), so the ratio is visible.
#
# Usage: scripts/bench-hostile.sh [N]     (N hostile requests, default 100000)
#   SEED=S   seed of the hostile run (default 1)
#
# Prints sharecheck's hostile report and baseline line, then
#   bench: hostile NNNNN requests/s, plain GET NNNNN requests/s (N requests each)
# Exits non-zero if the build fails or the hostile run finds a violation.
set -euo pipefail

N=${1:-100000}
SEED=${SEED:-1}
case $N in
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    '' | *[!0-9]*) echo "bench: N must be a number, not '$N' (try --help)" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

echo "bench: building release" >&2
cargo build --release --quiet --bin sharecheck

OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
# Only the hostile part: no stateful sequences, no concurrency clients (the security probes,
# a few hundred requests, run first and are not timed).
status=0
"$TARGET_DIR/release/sharecheck" fuzz --cases 0 --clients 0 --hostile "$N" --seed "$SEED" \
    --hostile-baseline >"$OUT" || status=$?
cat "$OUT"

hostile=$(sed -n 's/^hostile: .*(\([0-9]*\) requests\/s).*/\1/p' "$OUT")
plain=$(sed -n 's/^baseline: .*(\([0-9]*\) requests\/s).*/\1/p' "$OUT")
[ -n "$hostile" ] && [ -n "$plain" ] || { echo "bench: error: no figures in the output" >&2; exit 1; }
echo "bench: hostile $hostile requests/s, plain GET $plain requests/s ($N requests each)"
exit "$status"
