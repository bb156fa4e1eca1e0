#!/usr/bin/env bash
# Benchmark (not a test): image data through the mock on loopback, release build. Uploads a
# file of SIZE_MIB MiB (default 1024) to a new image with curl, downloads it again, and prints
# the throughput each way, the mock's resident memory before and after, and, as a baseline
# from the same run, how fast this machine computes the two digests an upload needs
# (md5sum and sha512sum of the same file).
#
# Usage: scripts/bench-data.sh [--state]
#   --state      run the mock with --state DIR (data as files) instead of in memory
#   SIZE_MIB=N   size of the image (default 1024)
#
# Prints lines starting `bench:`; exits non-zero if the download differs from the upload or
# the recorded checksum is not the file's MD5.
set -euo pipefail

STATE=0
case ${1:-} in
    --state) STATE=1 ;;
    '') ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
SIZE_MIB=${SIZE_MIB:-1024}
case $SIZE_MIB in '' | *[!0-9]*) echo "bench: SIZE_MIB must be a number" >&2; exit 2 ;; esac
command -v curl >/dev/null || { echo "bench: curl is needed" >&2; exit 2; }

cd "$(dirname "$0")/.."
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
echo "bench: building release" >&2
cargo build --release --quiet --bin sharecheck

WORK=$(mktemp -d)
MOCK_PID=
cleanup() {
    [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

FILE=$WORK/image.raw
# Not all zeros (a store that compressed would flatter itself): 1 MiB of random bytes, repeated.
head -c 1048576 /dev/urandom >"$WORK/block"
for _ in $(seq "$SIZE_MIB"); do cat "$WORK/block"; done >"$FILE"
BYTES=$(stat -c %s "$FILE")

ARGS=(mock --listen 127.0.0.1:0)
[ "$STATE" = 1 ] && ARGS+=(--state "$WORK/state")
"$TARGET_DIR/release/sharecheck" "${ARGS[@]}" >"$WORK/mock.out" 2>"$WORK/mock.err" &
MOCK_PID=$!
for _ in $(seq 100); do
    grep -q '^listening on ' "$WORK/mock.out" 2>/dev/null && break
    sleep 0.1
done
EP=$(sed -n 's/^listening on //p' "$WORK/mock.out")
[ -n "$EP" ] || { echo "bench: the mock did not start:" >&2; cat "$WORK/mock.err" >&2; exit 1; }

rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$MOCK_PID/status"; }
TOKEN=owner-token
ID=$(curl -sS -X POST -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' \
    -d '{"name": "bench-data", "disk_format": "raw", "container_format": "bare"}' \
    "$EP/v2/images" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[ -n "$ID" ] || { echo "bench: could not create an image" >&2; exit 1; }

before=$(rss_kib)
up=$(curl -sS -o /dev/null -w '%{http_code} %{speed_upload}' -X PUT -T "$FILE" \
    -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/octet-stream' "$EP/v2/images/$ID/file")
after_up=$(rss_kib)
[ "${up%% *}" = 204 ] || { echo "bench: upload answered ${up%% *}" >&2; exit 1; }
down=$(curl -sS -o "$WORK/back.raw" -w '%{http_code} %{speed_download}' \
    -H "X-Auth-Token: $TOKEN" "$EP/v2/images/$ID/file")
after_down=$(rss_kib)
[ "${down%% *}" = 200 ] || { echo "bench: download answered ${down%% *}" >&2; exit 1; }
cmp -s "$FILE" "$WORK/back.raw" || { echo "bench: error: the download differs from the upload" >&2; exit 1; }
rm -f "$WORK/back.raw"
recorded=$(curl -sS -H "X-Auth-Token: $TOKEN" "$EP/v2/images/$ID" | sed -n 's/.*"checksum":"\([0-9a-f]*\)".*/\1/p')

t0=$(date +%s.%N); md5=$(md5sum "$FILE" | cut -d' ' -f1); t1=$(date +%s.%N)
sha512sum "$FILE" >/dev/null; t2=$(date +%s.%N)
[ "$recorded" = "$md5" ] || { echo "bench: error: recorded checksum $recorded, file MD5 $md5" >&2; exit 1; }

awk -v b="$BYTES" -v up="${up#* }" -v down="${down#* }" -v r0="$before" -v r1="$after_up" \
    -v r2="$after_down" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v state="$STATE" 'BEGIN {
    mode = state ? "--state (files)" : "in memory"
    printf "bench: %s, %d MiB image\n", mode, b / 1048576
    printf "bench: upload %.2f GB/s, download %.2f GB/s (curl, loopback)\n", up / 1e9, down / 1e9
    printf "bench: baseline digests on this machine: md5sum %.2f GB/s, sha512sum %.2f GB/s, both in turn %.2f GB/s\n",
        b / (t1 - t0) / 1e9, b / (t2 - t1) / 1e9, b / (t2 - t0) / 1e9
    printf "bench: mock RSS %.1f MiB before, %.1f MiB after upload (+%.1f MiB for %.1f MiB stored), %.1f MiB after download\n",
        r0 / 1024, r1 / 1024, (r1 - r0) / 1024, b / 1048576, r2 / 1024
}'
