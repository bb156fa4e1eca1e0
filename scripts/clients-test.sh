#!/usr/bin/env bash
# Drive the mock with REAL OpenStack clients, offline, through the whole image-member
# lifecycle, image data (create --file, save, deactivate and reactivate), properties, tags
# and protection, metadata definitions (glanceclient's md-* commands), the image cache
# (cache-* and `openstack cached image`), stores and usage, and locations given by URL
# (glanceclient's add-location, location-add, location-update, location-delete, against a
# second mock with an http store reading a loopback source), and check that they see what
# the reference (Glance + Keystone) gives them:
#
#   - python-glanceclient with a static token and an explicit endpoint
#     (glance --os-image-url URL --os-auth-token TOKEN ...);
#   - python-openstackclient with a clouds.yaml, password auth against the mock's
#     Keystone at URL/v3, the image endpoint taken from the token's catalog, and members
#     added by project id (Keystone's default policy keeps project lists from non-admins,
#     and openstackclient then takes the value as an id, as it does against Keystone).
#
# The mock plays several stores (local, the default, backup, and a read-only http store web)
# and reports unified limits (`--config`), for the stores' details, copies among stores,
# deleting an image's data from one store, and the quota usage (glance stores-info --detail,
# stores-delete, usage; openstack image stores list).
#
# The mock keeps its state in a directory (`--state`); halfway through it is killed with
# SIGKILL and restarted on that directory, and the clients must find the image, its member's
# status and their token as they left them.
#
#   scripts/clients-test.sh
#
# Environment:
#   SHARECHECK_CLIENTS_HOME  venv root (default ~/.cache/sharecheck/clients)
#   SHARECHECK_PYTHON        interpreter for the venv (default python3; needs >= 3.11)
#   SHARECHECK_BIN           the sharecheck binary (default target/debug/sharecheck, built
#                            with `cargo build` when missing)
#
# The venv is made once (pip install pinned by scripts/clients-constraints.txt) and reused
# while its stamp matches the versions below. The mock listens on a free loopback port and
# is stopped on exit. Every client call is bounded by `timeout`.
set -euo pipefail

OSC_VERSION=10.5.0
GLANCECLIENT_VERSION=4.13.0
CALL_TIMEOUT=60

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
CHOME=${SHARECHECK_CLIENTS_HOME:-${HOME:-/root}/.cache/sharecheck/clients}
VENV=$CHOME/venv
CONSTRAINTS=$SCRIPT_DIR/clients-constraints.txt
BIN=${SHARECHECK_BIN:-$ROOT/target/debug/sharecheck}

die() { echo "clients-test: error: $*" >&2; exit 1; }
info() { echo "clients-test: $*" >&2; }

started=$(date +%s)

# ----- the clients -------------------------------------------------------------------------

ensure_venv() {
  local stamp=$VENV/.sharecheck-clients-osc-$OSC_VERSION-glance-$GLANCECLIENT_VERSION
  if [[ -f $stamp && -x $VENV/bin/openstack && -x $VENV/bin/glance ]]; then
    return 0
  fi
  local py=${SHARECHECK_PYTHON:-python3}
  command -v "$py" >/dev/null 2>&1 || die "python interpreter '$py' not found (set SHARECHECK_PYTHON)"
  "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || die "$py is too old: python-openstackclient $OSC_VERSION needs Python >= 3.11"
  info "creating virtualenv $VENV ($("$py" --version 2>&1))"
  rm -rf "$VENV"
  mkdir -p "$CHOME"
  if ! "$py" -m venv "$VENV" 2>"$CHOME/venv.err"; then
    cat "$CHOME/venv.err" >&2
    die "'$py -m venv' failed (on Debian: apt-get install python3-venv)"
  fi
  local pip=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input)
  export PIP_NO_INPUT=1
  "${pip[@]}" install -q --upgrade pip setuptools wheel || die "could not upgrade pip in $VENV"
  local cargs=()
  [[ -f $CONSTRAINTS ]] && cargs=(-c "$CONSTRAINTS")
  info "pip install python-openstackclient==$OSC_VERSION python-glanceclient==$GLANCECLIENT_VERSION"
  "${pip[@]}" install -q "${cargs[@]}" "python-openstackclient==$OSC_VERSION" \
    "python-glanceclient==$GLANCECLIENT_VERSION" \
    || die "pip install of the clients failed (is PyPI reachable?)"
  touch "$stamp"
}

# ----- the mock ----------------------------------------------------------------------------

MOCK_PID=
LOC_PID=
SRC_PID=
WORK=
# stop PID: TERM, up to 5 s, then KILL.
stop() {
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$MOCK_PID"
  stop "$LOC_PID"
  stop "$SRC_PID"
  [[ -n $WORK ]] && rm -rf "$WORK"
}
trap cleanup EXIT

start_mock() {
  if [[ ! -x $BIN ]]; then
    info "building $BIN (cargo build)"
    (cd "$ROOT" && cargo build --quiet) || die "cargo build failed"
  fi
  cat >"$WORK/deployment.yaml" <<'EOF'
stores:
  - {id: local, description: Fast local disk, weight: 100}
  - {id: backup, type: file}
  - {id: web, type: http}
default_store: local
unified_limits:
  limits: {image_size_total: 1000, image_stage_total: 1000, image_count_total: 100, image_count_uploading: 10}
EOF
  "$BIN" mock --listen 127.0.0.1:0 --state "$WORK/state" --config "$WORK/deployment.yaml" \
    >"$WORK/mock.out" 2>"$WORK/mock.err" &
  MOCK_PID=$!
  for _ in $(seq 1 100); do
    URL=$(sed -n 's/^listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$WORK/mock.out")
    [[ -n $URL ]] && return 0
    kill -0 "$MOCK_PID" 2>/dev/null || { cat "$WORK/mock.err" >&2; die "the mock exited"; }
    sleep 0.1
  done
  die "the mock did not say where it listens within 10 s"
}

# restart_mock: kill -9, then a new mock on the same state directory (on a new port; the
# clouds.yaml follows it).
restart_mock() {
  kill -KILL "$MOCK_PID" 2>/dev/null || true
  wait "$MOCK_PID" 2>/dev/null || true
  start_mock
  write_clouds
  info "mock killed with SIGKILL and restarted on its state directory, at $URL"
}

# ----- checking ----------------------------------------------------------------------------

CHECKS=0
ok() { CHECKS=$((CHECKS + 1)); echo "  ok: $*"; }
fail() { echo "  FAILED: $*" >&2; exit 1; }

# json EXPR < json: evaluates a Python expression over the parsed document `d`.
json() { "$VENV/bin/python" -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

# glance_rows < table: "member status" per row of a member-list table.
glance_rows() { awk -F'|' 'NF > 4 && $3 !~ /Member ID/ { gsub(/ /, "", $3); gsub(/ /, "", $4); print $3, $4 }'; }

# glance TOKEN ARGS...: stdin closed, which glanceclient reads as "no image data".
glance() {
  local token=$1; shift
  timeout "$CALL_TIMEOUT" "$VENV/bin/glance" --os-image-url "$URL" --os-auth-token "$token" "$@" 0<&-
}

# osc CLOUD ARGS...
osc() {
  local cloud=$1; shift
  timeout "$CALL_TIMEOUT" "$VENV/bin/openstack" --os-cloud "$cloud" "$@" </dev/null
}

# osc_tty CLOUD ARGS...: `image create` reads image data from any stdin that is not a
# terminal (and fails on a closed one), so it gets a pseudo-terminal from script(1).
osc_tty() {
  local cloud=$1; shift
  local cmd
  cmd=$(printf '%q ' timeout "$CALL_TIMEOUT" "$VENV/bin/openstack" --os-cloud "$cloud" "$@")
  script -qec "$cmd" /dev/null </dev/null | tr -d '\r'
}

# ----- glanceclient ------------------------------------------------------------------------

glanceclient_lifecycle() {
  info "python-glanceclient $GLANCECLIENT_VERSION: static tokens, --os-image-url $URL"
  local out img
  out=$(glance owner-token image-create --name sharecheck-clients-glance --visibility shared \
    --disk-format raw --container-format bare)
  img=$(awk -F'|' '$2 ~ /^ id / { gsub(/ /, "", $3); print $3 }' <<<"$out")
  [[ $img =~ ^[0-9a-f-]{36}$ ]] || fail "image-create printed no id: $out"
  grep -Eq '\| visibility +\| shared ' <<<"$out" || fail "image-create: not shared: $out"
  ok "glance image-create --visibility shared → $img"

  out=$(glance owner-token member-create "$img" proj-member)
  [[ $(glance_rows <<<"$out") == "proj-member pending" ]] || fail "member-create: $out"
  ok "glance member-create → proj-member pending"

  out=$(glance owner-token member-list --image-id "$img")
  [[ $(glance_rows <<<"$out") == "proj-member pending" ]] || fail "member-list: $out"
  ok "glance member-list (owner) → proj-member pending"

  if out=$(glance owner-token member-update "$img" proj-member accepted 2>&1); then
    fail "member-update by the owner succeeded: $out"
  fi
  grep -q "403 Forbidden" <<<"$out" || fail "member-update by the owner: $out"
  ok "glance member-update by the owner → 403 (only the member sets its status)"

  out=$(glance member-token member-update "$img" proj-member accepted)
  [[ $(glance_rows <<<"$out") == "proj-member accepted" ]] || fail "member-update: $out"
  ok "glance member-update (member) → accepted"

  out=$(glance member-token member-list --image-id "$img")
  [[ $(glance_rows <<<"$out") == "proj-member accepted" ]] || fail "member-list (member): $out"
  ok "glance member-list (member) → its own row, accepted"

  glance owner-token member-delete "$img" proj-member >/dev/null
  out=$(glance owner-token member-list --image-id "$img")
  [[ -z $(glance_rows <<<"$out") ]] || fail "member-list after member-delete: $out"
  ok "glance member-delete → member list empty"

  out=$(glance owner-token image-update "$img" --property sharecheck_note=noted --min-ram 64)
  grep -Eq '\| sharecheck_note +\| noted ' <<<"$out" && grep -Eq '\| min_ram +\| 64 ' <<<"$out" \
    || fail "image-update --property --min-ram: $out"
  ok "glance image-update --property sharecheck_note=noted --min-ram 64 (PATCH)"

  glance owner-token image-tag-update "$img" sharecheck-blue >/dev/null
  out=$(glance owner-token image-show "$img")
  grep -Eq "\| tags +\| .*sharecheck-blue" <<<"$out" || fail "image-tag-update: $out"
  ok "glance image-tag-update → the image shows the tag"

  glance owner-token image-tag-delete "$img" sharecheck-blue >/dev/null
  out=$(glance owner-token image-update "$img" --remove-property sharecheck_note)
  grep -q "sharecheck-blue" <<<"$out" && fail "image-tag-delete left the tag: $out"
  grep -q "sharecheck_note" <<<"$out" && fail "--remove-property left the property: $out"
  ok "glance image-tag-delete and image-update --remove-property"

  glance owner-token image-delete "$img" >/dev/null
  ok "glance image-delete"
}

# ----- openstackclient ---------------------------------------------------------------------

write_clouds() {
  local cloud user
  {
    echo "clouds:"
    for cloud in owner member admin wrong-password; do
      user=${cloud/wrong-password/owner}
      local password=$user-secret
      [[ $cloud == wrong-password ]] && password=not-the-password
      cat <<EOF
  $cloud:
    auth_type: password
    auth:
      auth_url: $URL/v3
      username: $user
      password: $password
      user_domain_name: Default
      project_name: $user
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
EOF
    done
  } >"$WORK/clouds.yaml"
  export OS_CLIENT_CONFIG_FILE=$WORK/clouds.yaml
}

openstackclient_lifecycle() {
  info "python-openstackclient $OSC_VERSION: clouds.yaml, password auth at $URL/v3"
  local out img token data_img
  out=$(osc owner token issue -f json)
  [[ $(json 'd["project_id"]' <<<"$out") == proj-owner ]] || fail "token issue: $out"
  token=$(json 'd["id"]' <<<"$out")
  ok "openstack token issue → a token of proj-owner"

  if out=$(osc wrong-password image list 2>&1); then
    fail "a wrong password was accepted: $out"
  fi
  grep -q "401" <<<"$out" || fail "wrong password: $out"
  ok "openstack with a wrong password → 401"

  out=$(osc_tty owner image create --shared --disk-format raw --container-format bare \
    sharecheck-clients-osc -f json)
  img=$(json 'd["id"]' <<<"$out")
  [[ $(json 'd["visibility"] + " " + d["owner"]' <<<"$out") == "shared proj-owner" ]] \
    || fail "image create: $out"
  ok "openstack image create --shared → $img"

  out=$(osc owner image add project "$img" proj-member -f json)
  [[ $(json 'd["member_id"] + " " + d["status"]' <<<"$out") == "proj-member pending" ]] \
    || fail "image add project: $out"
  ok "openstack image add project IMAGE proj-member (by id; project lists are for admins) → pending"

  out=$(osc owner image member list "$img" -f json)
  [[ $(json '[(r["Member ID"], r["Status"]) for r in d]' <<<"$out") == "[('proj-member', 'pending')]" ]] \
    || fail "image member list: $out"
  ok "openstack image member list → proj-member pending"

  osc member image set --accept "$img" >/dev/null
  out=$(osc owner image member list "$img" -f json)
  [[ $(json '[(r["Member ID"], r["Status"]) for r in d]' <<<"$out") == "[('proj-member', 'accepted')]" ]] \
    || fail "image member list after accept: $out"
  ok "openstack (member) image set --accept → accepted"

  # Image data: uploaded before the kill -9, read back after the restart.
  head -c 3000000 /dev/urandom >"$WORK/data.raw"
  out=$(osc owner image create --file "$WORK/data.raw" --disk-format raw --container-format bare \
    sharecheck-clients-data -f json)
  data_img=$(json 'd["id"]' <<<"$out")
  [[ $(json 'd["status"] + " " + str(d["size"]) + " " + d["checksum"]' <<<"$out") \
    == "active 3000000 $(md5sum <"$WORK/data.raw" | cut -d' ' -f1)" ]] \
    || fail "image create --file: $out"
  ok "openstack image create --file (3 MB) → active, size and MD5 checksum of the file"

  restart_mock
  osc owner image save --file "$WORK/saved.raw" "$data_img"
  cmp -s "$WORK/data.raw" "$WORK/saved.raw" || fail "image save after the restart: the bytes differ"
  ok "after the restart: openstack image save → the same bytes"
  out=$(glance owner-token image-download --file "$WORK/g.raw" "$data_img" 2>&1) \
    || fail "glance image-download: $out"
  cmp -s "$WORK/data.raw" "$WORK/g.raw" || fail "glance image-download: the bytes differ"
  ok "glance image-download → the same bytes (glanceclient checks the MD5 too)"

  osc owner image set --deactivate "$data_img"
  out=$(osc owner image show "$data_img" -f json)
  [[ $(json 'd["status"]' <<<"$out") == deactivated ]] || fail "image set --deactivate: $out"
  if out=$(osc owner image save --file "$WORK/d.raw" "$data_img" 2>&1); then
    fail "the owner downloaded a deactivated image: $out"
  fi
  ok "openstack image set --deactivate → deactivated; image save refused to the owner"
  glance owner-token image-reactivate "$data_img" >/dev/null
  out=$(glance owner-token image-show "$data_img")
  grep -Eq '\| status +\| active' <<<"$out" || fail "glance image-reactivate: $out"
  glance owner-token image-deactivate "$data_img" >/dev/null
  osc owner image set --activate "$data_img"
  out=$(osc owner image show "$data_img" -f json)
  [[ $(json 'd["status"]' <<<"$out") == active ]] || fail "image set --activate: $out"
  ok "glance image-reactivate / image-deactivate and openstack image set --activate"
  osc owner image delete "$data_img"

  out=$(osc owner image member list "$img" -f json)
  [[ $(json '[(r["Member ID"], r["Status"]) for r in d]' <<<"$out") == "[('proj-member', 'accepted')]" ]] \
    || fail "image member list after the restart: $out"
  ok "after kill -9 and a restart on --state: image member list → proj-member accepted"
  out=$(glance "$token" image-show "$img" 2>&1) || fail "the token issued before the restart: $out"
  grep -q sharecheck-clients-osc <<<"$out" || fail "image-show after the restart: $out"
  ok "after the restart: the token issued before it still works (glance image-show)"

  out=$(osc member image list -f json)
  [[ $(json "[r['ID'] for r in d].count('$img')" <<<"$out") == 1 ]] \
    || fail "the member's image list lacks the accepted image: $out"
  ok "openstack (member) image list shows the accepted image"

  osc owner image remove project "$img" proj-member >/dev/null
  out=$(osc owner image member list "$img" -f json)
  [[ $(json 'len(d)' <<<"$out") == 0 ]] || fail "member list after remove: $out"
  ok "openstack image remove project IMAGE proj-member → member list empty"

  if out=$(osc member image show "$img" -f json 2>&1); then
    fail "the removed member still sees the image: $out"
  fi
  ok "openstack (member) image show after removal → not found"

  osc owner image set --property sharecheck_note=noted --tag sharecheck-blue --min-ram 64 "$img"
  out=$(osc owner image show "$img" -f json)
  [[ $(json 'd["properties"]["sharecheck_note"] + " " + str(d["min_ram"]) + " " + ",".join(d["tags"])' <<<"$out") \
    == "noted 64 sharecheck-blue" ]] || fail "image set --property --tag --min-ram: $out"
  ok "openstack image set --property --tag --min-ram (PATCH and tags)"

  out=$(osc owner image list --tag sharecheck-blue -f json)
  [[ $(json "[r['ID'] for r in d].count('$img')" <<<"$out") == 1 ]] \
    || fail "image list --tag lacks the image: $out"
  ok "openstack image list --tag sharecheck-blue → the image"

  osc owner image unset --property sharecheck_note --tag sharecheck-blue "$img"
  out=$(osc owner image show "$img" -f json)
  [[ $(json '("sharecheck_note" in d.get("properties", {}), d["tags"])' <<<"$out") == "(False, [])" ]] \
    || fail "image unset: $out"
  ok "openstack image unset --property --tag"

  osc owner image set --protected "$img"
  if out=$(osc owner image delete "$img" 2>&1); then
    fail "a protected image was deleted: $out"
  fi
  ok "openstack image set --protected → image delete refused"
  osc owner image set --unprotected "$img"

  osc owner image delete "$img"
  ok "openstack image delete"
}

# ----- metadata definitions (glanceclient's md-* commands, as the admin) ------------------

metadefs_lifecycle() {
  info "python-glanceclient $GLANCECLIENT_VERSION: metadata definitions"
  local out ns=sharecheck-clients-ns
  out=$(glance admin-token md-namespace-create "$ns" --visibility public --description "clients test")
  grep -q "$ns" <<<"$out" || fail "md-namespace-create: $out"
  ok "glance md-namespace-create (public)"
  glance admin-token md-object-create "$ns" --name sharecheck-obj \
    --schema '{"properties": {"cores": {"title": "Cores", "type": "integer"}}}' >/dev/null
  glance admin-token md-tag-create-multiple "$ns" --names sharecheck-t1,sharecheck-t2 >/dev/null
  glance admin-token md-property-create "$ns" --name sharecheck_size --title Size \
    --type integer --schema '{"type": "integer", "minimum": 0}' >/dev/null
  out=$(glance owner-token md-namespace-show "$ns")
  for want in sharecheck-obj sharecheck-t1 sharecheck-t2 sharecheck_size; do
    grep -q "$want" <<<"$out" || fail "md-namespace-show lacks $want: $out"
  done
  ok "glance md-object-create, md-tag-create-multiple, md-property-create → md-namespace-show (owner) lists them"
  if out=$(glance owner-token md-tag-create "$ns" --name sharecheck-t3 2>&1); then
    fail "a non-admin defined a tag: $out"
  fi
  grep -q 403 <<<"$out" || fail "md-tag-create by the owner: $out"
  ok "glance md-tag-create by a non-admin → 403"
  out=$(glance owner-token md-namespace-list)
  grep -q "$ns" <<<"$out" || fail "md-namespace-list lacks $ns: $out"
  glance admin-token md-namespace-delete "$ns" >/dev/null
  if out=$(glance admin-token md-namespace-show "$ns" 2>&1); then
    fail "the deleted namespace is still shown: $out"
  fi
  ok "glance md-namespace-list, md-namespace-delete → gone"
}

# ----- the image cache (admins only) --------------------------------------------------------

# cache_ids TOKEN: the image ids `glance cache-list` shows as cached, one per line.
cache_ids() {
  glance "$1" cache-list | awk -F'|' '$2 ~ /[0-9a-f]+-[0-9a-f]+-/ && $3 ~ /cached/ { gsub(/ /, "", $2); print $2 }'
}

cache_lifecycle() {
  info "the image cache with glanceclient's cache-* and openstackclient's cached image"
  local out img
  printf 'twelve bytes' >"$WORK/cache.raw"
  out=$(glance owner-token image-create --name sharecheck-clients-cache --disk-format raw \
    --container-format bare --file "$WORK/cache.raw")
  img=$(awk -F'|' '$2 ~ /^ id / { gsub(/ /, "", $3); print $3 }' <<<"$out")
  [[ $img =~ ^[0-9a-f-]{36}$ ]] || fail "image-create --file printed no id: $out"

  # glanceclient reports the 403 in words ("You are not permitted to queue …").
  out=$(glance owner-token cache-queue "$img" 2>&1) || true
  grep -Eq "403|not permitted" <<<"$out" || fail "cache-queue by the owner: $out"
  grep -qx "$img" < <(cache_ids admin-token) && fail "the owner's cache-queue cached $img"
  ok "glance cache-queue by the owner → refused (admins only), nothing cached"

  glance admin-token cache-queue "$img" >/dev/null
  grep -qx "$img" < <(cache_ids admin-token) || fail "cache-list after cache-queue lacks $img"
  ok "glance cache-queue (admin) → cache-list shows the image cached"

  out=$(glance admin-token cache-nodes-list "$img")
  grep -q "$URL" <<<"$out" || fail "cache-nodes-list does not name the mock ($URL): $out"
  ok "glance cache-nodes-list → the node holding it"

  out=$(glance admin-token cache-prune)
  grep -qi "pruned" <<<"$out" || fail "cache-prune: $out"
  glance admin-token cache-clean >/dev/null
  grep -qx "$img" < <(cache_ids admin-token) || fail "cache-prune/clean removed $img"
  ok "glance cache-prune and cache-clean → the copy (within the maximum) stays"

  glance admin-token cache-delete "$img" >/dev/null
  grep -qx "$img" < <(cache_ids admin-token) && fail "cache-delete left $img cached"
  ok "glance cache-delete → gone from cache-list"

  osc admin cached image queue "$img" >/dev/null
  out=$(osc admin cached image list -f json)
  [[ $(json "'$img' in [c.get('ID', c.get('id')) for c in d]" <<<"$out") == True ]] \
    || fail "openstack cached image list after queue: $out"
  ok "openstack cached image queue → cached image list shows it"

  osc admin cached image clear --cache >/dev/null
  grep -qx "$img" < <(cache_ids admin-token) && fail "cached image clear --cache left $img"
  ok "openstack cached image clear --cache → the cache is empty of it"

  glance owner-token image-delete "$img" >/dev/null
}

# ----- stores and quota usage ---------------------------------------------------------------

stores_lifecycle() {
  info "stores and quota usage: glance stores-info --detail, stores-delete, usage; openstack image stores list"
  local out img
  out=$(glance admin-token stores-info --detail)
  for want in '"id": "local"' '"type": "file"' '"weight": 100' '"read-only": "true"' '"type": "http"'; do
    grep -q "$want" <<<"$out" || fail "stores-info --detail lacks $want: $out"
  done
  ok "glance stores-info --detail (admin) → every store with its type, weight and properties"
  if out=$(glance owner-token stores-info --detail 2>&1); then
    fail "a non-admin read the store details: $out"
  fi
  grep -q 403 <<<"$out" || fail "stores-info --detail by the owner: $out"
  ok "glance stores-info --detail by a non-admin → 403"

  out=$(osc owner image stores list -f json)
  [[ $(json '[(r["ID"], r["Default"]) for r in d]' <<<"$out") \
    == "[('local', True), ('backup', None), ('web', None)]" ]] || fail "image stores list: $out"
  ok "openstack image stores list → local (default), backup, web"
  out=$(osc admin --os-image-api-version 2.15 image stores list --detail -f json)
  [[ $(json '[(r["ID"], type(r["Properties"]).__name__) for r in d]' <<<"$out") \
    == "[('local', 'dict'), ('backup', 'dict'), ('web', 'dict')]" ]] \
    || fail "image stores list --detail: $out"
  ok "openstack image stores list --detail (admin) → each store's properties"

  out=$(glance owner-token image-create --name sharecheck-clients-stores --visibility private \
    --disk-format raw --container-format bare)
  img=$(awk -F'|' '$2 ~ /^ id / { gsub(/ /, "", $3); print $3 }' <<<"$out")
  printf 'sharecheck stores data' >"$WORK/stores.raw"
  glance owner-token image-upload --file "$WORK/stores.raw" "$img" >/dev/null
  out=$(glance owner-token usage)
  grep -Eq '\| image_count_total +\| 100 +\| [1-9]' <<<"$out" || fail "usage: $out"
  ok "glance usage → each limit with the project's usage (image_count_total 100, at least 1)"

  if out=$(glance admin-token stores-delete --store local "$img" 2>&1); then
    fail "the only store's data was deleted: $out"
  fi
  grep -q 403 <<<"$out" || fail "stores-delete of the only store: $out"
  ok "glance stores-delete of the only store holding the data → 403"
  glance admin-token image-import --import-method copy-image --stores backup "$img" >/dev/null
  out=$(glance owner-token image-show "$img")
  grep -Eq '\| stores +\| local,backup ' <<<"$out" || fail "copy-image to backup: $out"
  if out=$(glance owner-token stores-delete --store backup "$img" 2>&1); then
    fail "the owner deleted data from a store: $out"
  fi
  grep -q 403 <<<"$out" || fail "stores-delete by the owner: $out"
  glance admin-token stores-delete --store local "$img" >/dev/null
  out=$(glance owner-token image-show "$img")
  grep -Eq '\| stores +\| backup ' <<<"$out" && grep -Eq '\| status +\| active ' <<<"$out" \
    || fail "stores-delete --store local: $out"
  glance owner-token image-download --file "$WORK/stores.out" "$img" >/dev/null
  cmp -s "$WORK/stores.raw" "$WORK/stores.out" || fail "download after stores-delete: the bytes differ"
  ok "glance image-import copy-image, stores-delete (admin; the owner 403) → data only in backup, still downloads"
  glance owner-token image-delete "$img" >/dev/null
}

# ----- locations by URL (a second mock, with an http store) ---------------------------------

# listening_on FILE PATTERN: waits (10 s) for sed PATTERN to print something from FILE.
listening_on() {
  local file=$1 pattern=$2 found
  for _ in $(seq 1 100); do
    found=$(sed -n "$pattern" "$file" 2>/dev/null | head -1)
    [[ -n $found ]] && { echo "$found"; return 0; }
    sleep 0.1
  done
  return 1
}

# start_location_mock: a loopback source (python's http.server on a free port: GET and HEAD
# with Content-Length) serving $WORK/src, and a mock whose deployment has an http store
# (`web`, read-only) and an import filter admitting that source only; sets LOC_URL and SRC.
start_location_mock() {
  mkdir -p "$WORK/src"
  head -c 300000 /dev/urandom >"$WORK/src/disk.img"
  cp "$WORK/src/disk.img" "$WORK/src/copy.img"
  (cd "$WORK/src" && exec "$VENV/bin/python" -u -m http.server 0 --bind 127.0.0.1) \
    >"$WORK/src.out" 2>"$WORK/src.err" &
  SRC_PID=$!
  local port
  port=$(listening_on "$WORK/src.out" 's/^Serving HTTP on [0-9.]* port \([0-9]*\).*/\1/p') \
    || die "the loopback source did not start: $(cat "$WORK/src.err")"
  SRC=http://127.0.0.1:$port
  cat >"$WORK/locations.yaml" <<EOF
stores: [{id: local}, {id: web, read_only: true}]
default_store: local
show_multiple_locations: true
import_filter: {allowed_schemes: [http], allowed_hosts: [127.0.0.1], allowed_ports: [$port]}
EOF
  "$BIN" mock --listen 127.0.0.1:0 --config "$WORK/locations.yaml" \
    >"$WORK/loc-mock.out" 2>"$WORK/loc-mock.err" &
  LOC_PID=$!
  LOC_URL=$(listening_on "$WORK/loc-mock.out" 's/^listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p') \
    || die "the mock with an http store did not start: $(cat "$WORK/loc-mock.err")"
}

# field NAME < table: the value of row NAME of a glanceclient table.
field() { awk -F'|' -v n="$1" '{ k = $2; gsub(/ /, "", k) } k == n { v = $3; gsub(/^ +| +$/, "", v); print v }'; }

# lglance TOKEN ARGS...: glanceclient against the mock with an http store.
lglance() { URL=$LOC_URL glance "$@"; }

# new_image NAME: a raw/bare image of the owner's on that mock; its id.
new_image() {
  lglance owner-token image-create --name "$1" --disk-format raw --container-format bare \
    | awk -F'|' '$2 ~ /^ id / { gsub(/ /, "", $3); print $3 }'
}

# wait_task IMAGE: waits (10 s) for the image's first task to end; its status.
wait_task() {
  local out status=
  for _ in $(seq 1 50); do
    out=$(curl -fsS -H 'x-auth-token: owner-token' "$LOC_URL/v2/images/$1/tasks")
    status=$(json "d['tasks'][0]['status'] if d['tasks'] else ''" <<<"$out")
    [[ $status == success || $status == failure ]] && break
    sleep 0.2
  done
  echo "$status"
}

locations_lifecycle() {
  start_location_mock
  info "locations: a mock with an http store at $LOC_URL, the source at $SRC"
  local out img size md5 sha256
  size=$(stat -c %s "$WORK/src/disk.img")
  md5=$(md5sum "$WORK/src/disk.img" | cut -d' ' -f1)
  sha256=$(sha256sum "$WORK/src/disk.img" | cut -d' ' -f1)
  # The locations API (v2.17): POST /v2/images/{id}/locations, read by a task.
  img=$(new_image sharecheck-clients-add-location)
  [[ $img =~ ^[0-9a-f-]{36}$ ]] || fail "image-create printed no id"
  lglance owner-token add-location "$img" --url "$SRC/disk.img" \
    --validation-data "{\"os_hash_algo\": \"sha256\", \"os_hash_value\": \"$sha256\"}" >/dev/null \
    || fail "glance add-location"
  [[ $(wait_task "$img") == success ]] || fail "add-location: the task did not succeed"
  out=$(lglance owner-token image-show "$img")
  [[ $(field status <<<"$out") == active && $(field size <<<"$out") == "$size" \
    && $(field checksum <<<"$out") == "$md5" && $(field os_hash_value <<<"$out") == "$sha256" ]] \
    || fail "glance add-location: not active with the source's size and digests: $out"
  out=$(curl -fsS -H 'x-auth-token: admin-token' "$LOC_URL/v2/images/$img/locations")
  [[ $(json "[l['url'] for l in d]" <<<"$out") == "['$SRC/disk.img']" ]] \
    || fail "add-location: GET /v2/images/$img/locations: $out"
  ok "glance add-location --validation-data (sha256) → active, the source's size, MD5 and SHA-256"
  # A hash that is not the data's: the task fails, the image stays queued.
  img=$(new_image sharecheck-clients-add-location-bad)
  lglance owner-token add-location "$img" --url "$SRC/disk.img" \
    --validation-data "{\"os_hash_algo\": \"sha256\", \"os_hash_value\": \"${sha256//?/0}\"}" >/dev/null \
    || fail "glance add-location (a wrong hash)"
  [[ $(wait_task "$img") == failure ]] || fail "add-location of a wrong hash: the task did not fail"
  out=$(lglance owner-token image-show "$img")
  [[ $(field status <<<"$out") == queued ]] || fail "a wrong hash made the image: $out"
  ok "glance add-location with a hash not the data's → the task fails, the image stays queued"
  # The patch of /locations (glanceclient's location-add): the mock asks the size (HEAD).
  img=$(new_image sharecheck-clients-location-add)
  out=$(lglance owner-token location-add "$img" --url "$SRC/disk.img") \
    || fail "glance location-add: $out"
  [[ $(field status <<<"$out") == active && $(field size <<<"$out") == "$size" ]] \
    || fail "glance location-add: $out"
  ok "glance location-add (PATCH) → active with the size the source gives"
  if out=$(lglance owner-token location-add "$img" --url "$SRC/missing.img" 2>&1); then
    fail "a location with nothing behind it was added: $out"
  fi
  grep -q 400 <<<"$out" || fail "location-add of a missing URL: $out"
  ok "glance location-add of a URL with nothing behind it → 400"
  out=$(lglance owner-token location-add "$img" --url "$SRC/copy.img" \
    --metadata '{"copy": "yes"}') || fail "glance location-add (a second URL): $out"
  out=$(lglance owner-token location-update "$img" --url "$SRC/disk.img" \
    --metadata '{"tier": "gold"}') || fail "glance location-update: $out"
  out=$(curl -fsS -H 'x-auth-token: owner-token' "$LOC_URL/v2/images/$img")
  [[ $(json "[l['metadata'] for l in d['locations']] \
    == [{'tier': 'gold', 'store': 'web'}, {'copy': 'yes', 'store': 'web'}]" <<<"$out") == True ]] \
    || fail "location-update: $out"
  ok "glance location-add (a second URL) and location-update --metadata"
  if out=$(lglance owner-token location-delete "$img" --url "$SRC/disk.img" 2>&1); then
    fail "the owner removed a location: $out"
  fi
  grep -q 403 <<<"$out" || fail "location-delete by the owner: $out"
  lglance admin-token location-delete "$img" --url "$SRC/disk.img" >/dev/null \
    || fail "glance location-delete (admin)"
  out=$(curl -fsS -H 'x-auth-token: owner-token' "$LOC_URL/v2/images/$img")
  [[ $(json "[l['url'] for l in d['locations']]" <<<"$out") == "['$SRC/copy.img']" ]] \
    || fail "location-delete: $out"
  ok "glance location-delete: 403 for the owner; an admin removes one, the other stays"
}

# ----- main --------------------------------------------------------------------------------

ensure_venv
WORK=$(mktemp -d)
# Loopback only: never through a proxy; no OS_* settings from the caller.
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
while IFS= read -r var; do unset "$var"; done < <(env | sed -n 's/^\(OS_[A-Za-z0-9_]*\)=.*/\1/p')
start_mock
info "mock at $URL"
write_clouds
glanceclient_lifecycle
stores_lifecycle
metadefs_lifecycle
cache_lifecycle
openstackclient_lifecycle
locations_lifecycle
echo "clients-test: $CHECKS checks passed in $(( $(date +%s) - started )) s"
