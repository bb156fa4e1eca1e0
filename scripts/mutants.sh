#!/usr/bin/env bash
# Mutation testing of the model (src/model) with cargo-mutants; the test is the crate's unit
# tests (the model's own, of digests, ranges and the format check among them), the
# conformance suite on the embedded mock, the mock's Keystone tests, its control API tests
# and the state directory's tests (`cargo test --lib --test conformance --test keystone
# --test control --test persistence`): the model also holds the identities and tokens
# Keystone serves, the control API sets up times and histories (fixtures) that no case on a
# live server can arrange, and what the model hands a store (`changes.rs`) shows only after
# a restart.
#
#   scripts/mutants.sh                      every model mutant (hours: shard it)
#   scripts/mutants.sh --shard 2/8          one shard of eight (round-robin)
#   scripts/mutants.sh --in-diff [BASE]     only mutants in lines changed since BASE (HEAD~1)
#   scripts/mutants.sh --list               list the mutants, test nothing
#   scripts/mutants.sh --summary [...]      summarize the last run in OUT again, test nothing
#
# Options: --budget SECONDS (default 600): when more mutants are selected than fit (at
# PER_MUTANT seconds each after a BASELINE-second build), a seeded sample is tested (one shard
# of a round-robin split, chosen by --seed, default the date) and the skipped count printed.
# Survivors listed in docs/mutants-equivalent.md are reported as equivalent, not as survivors.
# Output goes to OUT (default target/mutants); exit 1 when a non-equivalent mutant survives.
set -euo pipefail
cd "$(dirname "$0")/.."

SHARD="" IN_DIFF="" BASE="HEAD~1" LIST=0 SUMMARY=0 BUDGET=600 SEED="$(date -u +%Y%m%d)"
PER_MUTANT="${PER_MUTANT:-20}" BASELINE="${BASELINE:-150}" OUT="${OUT:-target/mutants}"
JOBS="${JOBS:-1}"
while [ $# -gt 0 ]; do
  case "$1" in
    --shard) SHARD="$2"; shift 2 ;;
    --in-diff) IN_DIFF=1; if [ $# -gt 1 ] && [[ "$2" != --* ]]; then BASE="$2"; shift; fi; shift ;;
    --budget) BUDGET="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --list) LIST=1; shift ;;
    --summary) SUMMARY=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "mutants.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

command -v cargo-mutants >/dev/null || { echo "mutants.sh: cargo-mutants not installed (cargo install cargo-mutants)" >&2; exit 2; }
mkdir -p "$OUT"
# Model code only, not its unit tests; names without line numbers, so that the equivalent
# list survives edits elsewhere in a file.
sel=(--file 'src/model/**/*.rs' --exclude 'src/model/**/tests.rs' --line-col=false)
if [ -n "$IN_DIFF" ]; then
  git diff "$BASE" -- src/model >"$OUT/diff.patch"
  if [ ! -s "$OUT/diff.patch" ]; then
    echo "mutants: no change in src/model since $BASE; nothing to test"
    exit 0
  fi
  sel+=(--in-diff "$OUT/diff.patch")
fi

cargo mutants --list "${sel[@]}" >"$OUT/all.txt"
total=$(wc -l <"$OUT/all.txt")
echo "mutants: $total selected${IN_DIFF:+ (in the diff against $BASE)}"
if [ "$LIST" = 1 ]; then cat "$OUT/all.txt"; exit 0; fi
if [ "$total" -eq 0 ]; then echo "mutants: nothing to test"; exit 0; fi

# The test targets, for the build as well as the run: otherwise every mutant links every test
# binary of the crate, most of which never run.
tests=(--cargo-arg=--lib --cargo-arg=--test=conformance --cargo-arg=--test=keystone
  --cargo-arg=--test=control --cargo-arg=--test=persistence)
run=(--jobs "$JOBS" --sharding round-robin --timeout 120 --profile mutants --output "$OUT")
if [ -n "$SHARD" ]; then
  k=${SHARD%/*} n=${SHARD#*/}
  selected=$(( (total - k + n - 1) / n ))
else
  fit=$(( (BUDGET - BASELINE) / PER_MUTANT ))
  [ "$fit" -ge 1 ] || fit=1
  if [ "$total" -gt "$fit" ]; then
    n=$(( (total + fit - 1) / fit ))
    k=$(( SEED % n ))
    selected=$(( (total - k + n - 1) / n ))
    echo "mutants: budget ${BUDGET}s fits about $fit; testing shard $k/$n (seed $SEED): $selected, skipping $(( total - selected ))"
  else
    k=0 n=1 selected=$total
  fi
fi
run+=(--shard "$k/$n")

start=$(date +%s)
set +e
# The estimate above can be wrong on a loaded machine: a hard stop at 1.5 × the budget (only
# when sampling by budget, not for an explicit --shard), whose untested mutants count as skipped.
if [ "$SUMMARY" = 1 ]; then
  true
elif [ -z "$SHARD" ]; then
  timeout -s INT $(( BUDGET * 3 / 2 )) cargo mutants "${sel[@]}" "${run[@]}" "${tests[@]}"
else
  cargo mutants "${sel[@]}" "${run[@]}" "${tests[@]}"
fi
status=$?
set -e
wall=$(( $(date +%s) - start ))

dir="$OUT/mutants.out"
count() { if [ -s "$dir/$1" ]; then grep -c . "$dir/$1"; else echo 0; fi; }
caught=$(count caught.txt) missed=$(count missed.txt) timeout=$(count timeout.txt) unviable=$(count unviable.txt)
# Equivalent survivors: lines "- `<mutant name>` — reason" in docs/mutants-equivalent.md.
equiv_names=$(sed -n 's/^- `\(.*\)` — .*/\1/p' docs/mutants-equivalent.md 2>/dev/null || true)
survivors=() equivalent=0
if [ -f "$dir/missed.txt" ]; then
  # missed.txt names carry :line:col; the list of equivalents does not.
  while IFS= read -r m; do
    if grep -qxF -- "$m" <<<"$equiv_names"; then equivalent=$((equivalent + 1)); else survivors+=("$m"); fi
  done < <(sed -E 's/^([^:]+):[0-9]+:[0-9]+: /\1: /' "$dir/missed.txt")
fi
viable=$(( caught + timeout + ${#survivors[@]} ))
tested=$(( caught + timeout + missed + unviable ))
if [ "$status" = 124 ]; then
  echo "mutants: stopped by the time bound after $tested of $selected; $(( selected - tested )) more skipped"
  status=0
fi
echo
echo "mutants: shard $k/$n of $total, ${wall}s wall"
echo "  caught $caught, timeout $timeout (counted as caught), unviable $unviable, missed $missed ($equivalent equivalent)"
if [ "$viable" -gt 0 ]; then
  echo "  score: $(( 100 * (caught + timeout) / viable ))% of $viable non-equivalent viable mutants"
fi
if [ ${#survivors[@]} -gt 0 ]; then
  echo "  survivors (kill with a case, or list in docs/mutants-equivalent.md with a reason):"
  printf '    %s\n' "${survivors[@]}"
  exit 1
fi
# cargo-mutants exits 2 for missed mutants (all equivalent here), 3 for timeouts only.
case "$status" in 0|2|3) exit 0 ;; *) exit "$status" ;; esac
