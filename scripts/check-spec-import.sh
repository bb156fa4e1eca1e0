#!/usr/bin/env bash
# Imports the documentation pages under SEED_DIR (default: ../shared/seed, relative to the
# repository root; every *.rst below it, siblings/ included) with `sharecheck spec import`,
# and compares each imported operation with the spec in specs/ that has the same method and
# path: response codes (documented rows only; `documented: false` rows are observed on the
# reference, not in the documentation), path parameters, and body field names.
#
# Usage: scripts/check-spec-import.sh [SEED_DIR]
# A report only: exits 0 whatever the differences, 2 if the build or the set-up fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ $# -gt 0 ]]; then
    seed=$(cd "$1" && pwd) || { echo "check-spec-import: no folder $1" >&2; exit 2; }
else
    seed=$(cd "$root/../shared/seed" 2>/dev/null && pwd) \
        || { echo "check-spec-import: no folder $root/../shared/seed; pass SEED_DIR" >&2; exit 2; }
fi
cd "$root"

if ! cargo build --quiet --bin sharecheck 2>"${TMPDIR:-/tmp}/check-spec-import-build.$$"; then
    cat "${TMPDIR:-/tmp}/check-spec-import-build.$$" >&2
    rm -f "${TMPDIR:-/tmp}/check-spec-import-build.$$"
    exit 2
fi
rm -f "${TMPDIR:-/tmp}/check-spec-import-build.$$"
target_dir=${CARGO_TARGET_DIR:-$root/target}
bin=$target_dir/debug/sharecheck

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/imported"
: >"$tmp/failures.txt"

n=0
while IFS= read -r -d '' page; do
    n=$((n + 1))
    # One folder per page, so two pages with one title cannot overwrite each other.
    out="$tmp/imported/$n"
    if ! "$bin" spec import "$page" --out "$out" >/dev/null 2>"$tmp/err.txt"; then
        sed "s|^sharecheck: error: ||" "$tmp/err.txt" >>"$tmp/failures.txt"
    else
        for f in "$out"/*.yaml; do
            printf '%s\t%s\n' "$f" "${page#"$seed"/}" >>"$tmp/pages.tsv"
        done
    fi
done < <(find "$seed" -name '*.rst' -print0 | sort -z)

if [[ $n -eq 0 ]]; then
    echo "check-spec-import: no *.rst pages under $seed" >&2
    exit 2
fi

python3 - "$tmp/pages.tsv" "$tmp/failures.txt" "$root/specs" "$seed" <<'PY'
import glob, os, sys
import yaml

pages_tsv, failures_txt, specs_dir, seed = sys.argv[1:5]

def load(path):
    with open(path) as f:
        return yaml.safe_load(f)

def body_fields(shape):
    if shape == "none" or shape is None:
        return None
    if isinstance(shape, dict) and isinstance(shape.get("json"), dict):
        return [(f.get("name"), bool(f.get("required", False))) for f in shape["json"].get("fields") or []]
    return "?"

def show_fields(fields):
    if fields is None:
        return "none"
    if fields == "?":
        return "(unreadable)"
    if not fields:
        return "json, no fields listed"
    return ", ".join(n + ("*" if r else "") for n, r in fields)

def path_params(op):
    return [(p.get("name"), p.get("type")) for p in op.get("parameters") or [] if p.get("in") == "path"]

imported = []
if os.path.exists(pages_tsv):
    for line in open(pages_tsv):
        yaml_path, page = line.rstrip("\n").split("\t")
        imported.append((page, load(yaml_path)))

specs = {}
for path in sorted(glob.glob(os.path.join(specs_dir, "*.yaml"))):
    rel = os.path.relpath(path, os.path.dirname(specs_dir))
    try:
        op = load(path)
    except yaml.YAMLError as e:
        print(f"!! {rel}: not readable YAML: {e}".replace("\n", " "))
        continue
    if not isinstance(op, dict) or "method" not in op or "path" not in op:
        print(f"!! {rel}: no method/path")
        continue
    specs[(op["method"], op["path"])] = (rel, op)

failures = [l.rstrip("\n") for l in open(failures_txt) if l.strip()]
print(f"Pages under {seed}: {len(imported)} imported, {len(failures)} import problem(s); "
      f"specs/: {len(specs)} operations.")
print("Codes compare documented rows only; `*` marks a required field.\n")

for l in failures:
    print(f"!! import failed: {l.replace(seed + '/', '')}")
if failures:
    print()

matched = set()
differences = 0
for page, doc in sorted(imported, key=lambda p: (p[1]["path"], p[1]["method"])):
    key = (doc["method"], doc["path"])
    head = f"{doc['method']} {doc['path']}  (page {page}, imported as {doc['operation']})"
    if key not in specs:
        print(f"-- {head}: no spec in specs/")
        continue
    matched.add(key)
    rel, op = specs[key]
    lines = []
    if op.get("operation") != doc["operation"]:
        head += f", spec name {op.get('operation')}"
    if not str(op.get("source", "")).startswith("doc:"):
        head += f", spec source {op.get('source')}"
    page_codes = {r["code"]: r for r in doc["responses"]}
    spec_rows = op.get("responses") or []
    spec_codes = {r["code"]: r for r in spec_rows if r.get("documented", True)}
    undocumented = sorted(r["code"] for r in spec_rows if not r.get("documented", True))
    only_page = sorted(set(page_codes) - set(spec_codes))
    only_spec = sorted(set(spec_codes) - set(page_codes))
    if only_page or only_spec:
        if only_page:
            lines.append(f"codes on the page, not documented in the spec: {' '.join(map(str, only_page))}")
        if only_spec:
            lines.append(f"codes documented in the spec, not on the page: {' '.join(map(str, only_spec))}")
    renamed = [f"{c} page {page_codes[c]['name']!r} / spec {spec_codes[c]['name']!r}"
               for c in sorted(set(page_codes) & set(spec_codes))
               if page_codes[c]["name"] != spec_codes[c]["name"]]
    if renamed:
        lines.append("code names differ: " + "; ".join(renamed))
    pp, sp = path_params(doc), path_params(op)
    if pp != sp:
        lines.append(f"path parameters: page {pp} / spec {sp}")
    for key_name, label in (("request_body", "request"), ("response_body", "response")):
        pf, sf = body_fields(doc.get(key_name)), body_fields(op.get(key_name))
        if pf != sf:
            if isinstance(pf, list) and isinstance(sf, list) and {n for n, _ in pf} == {n for n, _ in sf}:
                what = "required flags differ"
            else:
                what = "fields differ"
            lines.append(f"{label} body {what}: page [{show_fields(pf)}] / spec [{show_fields(sf)}]")
    summary = f"codes {' '.join(map(str, sorted(page_codes)))}"
    if undocumented:
        summary += f"; spec also has undocumented rows {' '.join(map(str, undocumented))} (not compared)"
    if lines:
        differences += 1
        print(f"!= {head} vs {rel}")
        for l in lines:
            print(f"     {l}")
        print(f"     ({summary})")
    else:
        print(f"== {head} vs {rel}: same ({summary})")

unmatched = sorted(k for k in specs if k not in matched)
if unmatched:
    print()
    for m, p in unmatched:
        print(f"-- {specs[(m, p)][0]} ({m} {p}): no imported page")
print(f"\n{len(matched)} operation(s) compared, {differences} with differences.")
PY
