#!/usr/bin/env bash
# Run a REAL OpenStack Glance (image API v2) on loopback, as the reference
# target for the sharecheck suite.
#
#   scripts/reference-glance.sh start [--port 9393] [--member-quota 5] [--keystone URL]
#                                     [--database sqlite|postgresql] [--release VERSION]
#                                     [--profile NAME] [--source-port PORT]
#   scripts/reference-glance.sh stop
#   scripts/reference-glance.sh status
#
# Environment:
#   SHARECHECK_GLANCE_HOME   venv + state root (default ~/.cache/sharecheck/glance)
#   SHARECHECK_GLANCE_STATE  state dir (default $SHARECHECK_GLANCE_HOME/state)
#   SHARECHECK_PYTHON        interpreter for the venv (default python3; needs >= 3.11)
#
# `start` (re)creates the venv if needed (pip install glance==$GLANCE_VERSION +
# gunicorn, pinned by scripts/glance-constraints.txt when present), writes a
# fresh config and an empty sqlite database into the state dir, runs
# glance-manage db_sync, starts gunicorn in the background, waits for
# GET /versions, and writes $STATE/target.yaml.  A Glance already started by
# this script is stopped first.  Identity: scripts/glance_static_auth.py
# (static tokens, in place of keystonemiddleware; with --keystone URL, other
# tokens are validated at that Keystone v3, e.g. sharecheck's mock at URL/v3).
#
# --database postgresql runs Glance the way clouds do: a private PostgreSQL
# cluster in $STATE/pg (Debian's postgresql package, installed when missing and
# run as root), psycopg2 in the venv, and gunicorn with 2 workers x 4 threads.
# The default, sqlite, is one sync worker.
#
# --release runs an older Glance instead of 33.0.0: 30.2.0 (2025.1) or 28.2.0 (2024.1),
# each in its own venv (venv-VERSION) pinned by scripts/glance-VERSION-constraints.txt
# (a pip freeze of a working install under that release's upper constraints).
#
# --profile NAME chooses the deployment (written into glance-api.conf, and its `deployment:`
# section into target.yaml); every profile keeps the image cache (image_cache_dir):
#   default     one file store `fs`; the three default import methods
#   two-stores  file stores `local` (the default) and `backup`, with descriptions
#   fs2         file stores `fs` (the default) and `fs2`
#   locations   show_multiple_locations and show_image_direct_url on (locations_shown: true)
#   methods     enabled_import_methods = [glance-direct,web-download] (no copy-image)
#   production  three file stores `local` (default), `backup`, `archive` and an http store
#               `web`, with weights; show_multiple_locations; glance-direct, web-download and
#               copy-image; an import filter admitting http://127.0.0.1:SOURCE_PORT only
#               (--source-port, default PORT+1); Glance's shipped metadata definitions loaded
#               with glance-manage db_load_metadefs
#   production-lax  production with [image_format] require_image_format_match = False
#               (image_format_match: false)
set -euo pipefail

GLANCE_VERSION=33.0.0
RELEASES="33.0.0 30.2.0 28.2.0"
PROFILES="default|two-stores|fs2|locations|methods|production|production-lax"
PSYCOPG2_VERSION=2.9.10

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GHOME=${SHARECHECK_GLANCE_HOME:-${HOME:-/root}/.cache/sharecheck/glance}
VENV=$GHOME/venv
STATE=${SHARECHECK_GLANCE_STATE:-$GHOME/state}
PIDFILE=$STATE/glance.pid
LOG=$STATE/glance-api.log
CONSTRAINTS=$SCRIPT_DIR/glance-constraints.txt

die() { echo "reference-glance: error: $*" >&2; exit 1; }
info() { echo "reference-glance: $*" >&2; }

usage() {
  cat >&2 <<EOF
usage: $0 start [--port PORT] [--member-quota N] [--keystone URL]
                [--database sqlite|postgresql] [--release 33.0.0|30.2.0|28.2.0]
                [--profile $PROFILES] [--source-port PORT]
       $0 stop
       $0 status
EOF
  exit 2
}

pid_alive() {
  # true if the pid file names a live process that is our gunicorn
  [[ -f $PIDFILE ]] || return 1
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  grep -q gunicorn "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

# --- PostgreSQL (--database postgresql) ------------------------------------
PGDIR=$STATE/pg

pg_bindir() {  # the newest installed server's bin dir, or nothing
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n $d && -x $d/pg_ctl ]] && echo "$d"
}

as_pg() {  # runs a PostgreSQL program as the cluster's owner (root may not)
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

ensure_postgres() {
  if [[ -z $(pg_bindir) ]]; then
    [[ $(id -u) -eq 0 ]] || die "PostgreSQL is not installed (apt-get install postgresql, as root)"
    info "apt-get install postgresql"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >"$GHOME/apt-postgresql.log" 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql \
             >"$GHOME/apt-postgresql.log" 2>&1; } \
      || { tail -n 20 "$GHOME/apt-postgresql.log" >&2; die "could not install Debian's postgresql"; }
  fi
  [[ -n $(pg_bindir) ]] || die "postgresql installed but no server under /usr/lib/postgresql/*/bin"
  local version pinned
  # the release's constraints may pin it (older releases); else our default
  pinned=$(grep -i '^psycopg2-binary==' "$CONSTRAINTS" 2>/dev/null | cut -d= -f3 || true)
  version=${pinned:-$PSYCOPG2_VERSION}
  local stamp=$VENV/.sharecheck-psycopg2-$version
  if [[ ! -f $stamp ]]; then
    info "pip install psycopg2-binary==$version"
    "$VENV/bin/python" -m pip --disable-pip-version-check --no-input install -q \
      "psycopg2-binary==$version" || die "pip install of psycopg2-binary failed"
    touch "$stamp"
  fi
}

pg_start() {  # pg_start PORT: an empty cluster with database `glance`, on 127.0.0.1:PORT
  local pgport=$1 bin
  bin=$(pg_bindir)
  port_in_use "$pgport" && die "127.0.0.1:$pgport (PostgreSQL) is already in use"
  mkdir -p "$PGDIR"
  [[ $(id -u) -eq 0 ]] && chown postgres "$PGDIR"
  info "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pgport ($PGDIR)"
  as_pg "$bin/initdb" -D "$PGDIR/data" -A trust -U glance -E UTF8 >"$STATE/pg-initdb.log" 2>&1 \
    || { tail -n 20 "$STATE/pg-initdb.log" >&2; die "initdb failed"; }
  as_pg "$bin/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pgport -k $PGDIR -c max_connections=200" start \
    >/dev/null || { tail -n 20 "$PGDIR/server.log" >&2; die "PostgreSQL did not start"; }
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$pgport" -U glance glance \
    || die "createdb glance failed"
}

pg_stop() {
  [[ -f $PGDIR/data/postmaster.pid ]] || return 0
  local bin
  bin=$(pg_bindir) || return 0
  as_pg "$bin/pg_ctl" -D "$PGDIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
}

cmd_stop() {
  local pid
  if ! pid=$(pid_alive); then
    rm -f "$PIDFILE"
    pg_stop
    info "not running"
    return 0
  fi
  info "stopping gunicorn (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    info "still alive after 10 s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    # gunicorn workers are in the master's process group (setsid below)
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  pg_stop
  info "stopped"
}

cmd_status() {
  local pid
  if pid=$(pid_alive); then
    echo "running (pid $pid), state $STATE"
  else
    echo "not running"
    return 1
  fi
}

pick_python() {
  local py=${SHARECHECK_PYTHON:-python3}
  command -v "$py" >/dev/null 2>&1 || die "python interpreter '$py' not found (set SHARECHECK_PYTHON)"
  "$py" - <<'EOF' || die "$py is too old: Glance $GLANCE_VERSION needs Python >= 3.11 (set SHARECHECK_PYTHON)"
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
EOF
  echo "$py"
}

ensure_venv() {
  local stamp=$VENV/.sharecheck-glance-$GLANCE_VERSION
  if [[ -f $stamp && -x $VENV/bin/gunicorn && -x $VENV/bin/glance-manage ]]; then
    return 0
  fi
  local py
  py=$(pick_python)
  info "creating virtualenv $VENV ($("$py" --version 2>&1))"
  rm -rf "$VENV"
  mkdir -p "$GHOME"
  if ! "$py" -m venv "$VENV" 2>"$GHOME/venv.err"; then
    cat "$GHOME/venv.err" >&2
    die "'$py -m venv' failed (on Debian: apt-get install python3-venv)"
  fi
  local pip=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input)
  export PIP_NO_INPUT=1
  local cargs=()
  [[ -f $CONSTRAINTS ]] && cargs=(-c "$CONSTRAINTS")
  # (an older release's constraints pin setuptools: Glance 28 needs pkg_resources)
  "${pip[@]}" install -q --upgrade "${cargs[@]}" pip setuptools wheel \
    || die "could not upgrade pip in $VENV"
  info "pip install glance==$GLANCE_VERSION gunicorn (takes a minute or two)"
  "${pip[@]}" install -q "${cargs[@]}" "glance==$GLANCE_VERSION" gunicorn \
    || die "pip install of glance==$GLANCE_VERSION failed (is PyPI reachable?)"
  "$VENV/bin/python" -c 'import glance.common.wsgi_app, glance.api.middleware.context, webob' \
    || die "glance installed but does not import"
  touch "$stamp"
}

# profile_settings PROFILE SOURCE_PORT: sets BACKENDS (id:type,...), DEFAULT_BACKEND,
# DEFAULT_EXTRA (lines of [DEFAULT]), SECTIONS_EXTRA (whole sections: each store's and any
# other) and the deployment the target file states (LOCATIONS_SHOWN, IMPORT_SOURCE: a
# source the import filter admits, when it is not Glance's default filter), and METADEFS.
profile_settings() {
  local profile=$1 source_port=$2
  BACKENDS=fs:file DEFAULT_BACKEND=fs DEFAULT_EXTRA= SECTIONS_EXTRA= LOCATIONS_SHOWN=false
  METADEFS=no IMPORT_SOURCE= FORMAT_MATCH=true
  # each store: "id|description|weight" (file stores; an http store is named in BACKENDS only)
  local stores=("fs||") entry id desc weight
  case $profile in
    default) ;;
    two-stores)
      BACKENDS=local:file,backup:file DEFAULT_BACKEND=local
      stores=("local|Fast local disk|" "backup|Backup copies|")
      ;;
    fs2) BACKENDS=fs:file,fs2:file stores=("fs||" "fs2||") ;;
    locations)
      DEFAULT_EXTRA=$'show_multiple_locations = True\nshow_image_direct_url = True\n'
      LOCATIONS_SHOWN=true
      ;;
    methods) DEFAULT_EXTRA=$'enabled_import_methods = [glance-direct,web-download]\n' ;;
    production | production-lax)
      BACKENDS=local:file,backup:file,archive:file,web:http DEFAULT_BACKEND=local
      stores=("local|Fast local disk|100" "backup|Backup copies|50" "archive|Archive|10")
      DEFAULT_EXTRA=$'show_multiple_locations = True\n'
      DEFAULT_EXTRA+=$'enabled_import_methods = [glance-direct,web-download,copy-image]\n'
      SECTIONS_EXTRA+=$'[web]\nstore_description = Read-only web store\nweight = 0\n\n'
      SECTIONS_EXTRA+=$'[import_filtering_opts]\nallowed_schemes = [http]\n'
      SECTIONS_EXTRA+=$'allowed_hosts = [127.0.0.1]\n'
      SECTIONS_EXTRA+="allowed_ports = [$source_port]"$'\n\n'
      LOCATIONS_SHOWN=true METADEFS=yes
      IMPORT_SOURCE=http://127.0.0.1:$source_port/sharecheck.img
      if [[ $profile == production-lax ]]; then
        SECTIONS_EXTRA+=$'[image_format]\nrequire_image_format_match = False\n\n'
        FORMAT_MATCH=false
      fi
      ;;
    *) die "--profile must be one of $PROFILES, got '$profile'" ;;
  esac
  for entry in "${stores[@]}"; do
    IFS='|' read -r id desc weight <<<"$entry"
    mkdir -p "$STATE/images/$id"
    SECTIONS_EXTRA+="[$id]"$'\n'"filesystem_store_datadir = $STATE/images/$id/"$'\n'
    [[ -n $desc ]] && SECTIONS_EXTRA+="store_description = $desc"$'\n'
    [[ -n $weight ]] && SECTIONS_EXTRA+="weight = $weight"$'\n'
    SECTIONS_EXTRA+=$'\n'
  done
}

write_config() {
  local port=$1 quota=$2 keystone=${3:-} connection=$4 profile=$5 source_port=$6
  mkdir -p "$STATE"/{images,staging,tasks,cache,locks}
  profile_settings "$profile" "$source_port"
  cat >"$STATE/glance-api.conf" <<EOF
# Generated by scripts/reference-glance.sh -- do not edit (rewritten on start)
# profile: $profile
[DEFAULT]
debug = false
use_stderr = true
image_member_quota = $quota
enabled_backends = $BACKENDS
image_cache_dir = $STATE/cache
${DEFAULT_EXTRA}worker_self_reference_url = http://127.0.0.1:$port
# Glance defaults kept: allow_anonymous_access = false (=> 401 without a
# confirmed identity), public/community/shared visibility rules, policy.
# sqlite waits up to 30 s for a lock (not 5): task threads write beside
# requests, and scripts/sitecustomize.py makes each transaction take the
# write lock first, so they wait for each other instead of failing.

[database]
connection = $connection

[glance_store]
default_backend = $DEFAULT_BACKEND

${SECTIONS_EXTRA}[os_glance_staging_store]
filesystem_store_datadir = $STATE/staging/

[os_glance_tasks_store]
filesystem_store_datadir = $STATE/tasks/

[oslo_concurrency]
lock_path = $STATE/locks

[paste_deploy]
flavor = sharecheck
config_file = $STATE/glance-api-paste.ini

# [oslo_policy]: nothing set, so enforce_new_defaults / enforce_scope and the
# policy rules are the defaults of the installed Glance/oslo.policy.
EOF

  # Stock Glance $GLANCE_VERSION paste pipeline with keystonemiddleware's
  # authtoken replaced by the static-token filter.
  cat >"$STATE/glance-api-paste.ini" <<EOF
# Generated by scripts/reference-glance.sh -- do not edit (rewritten on start)
[composite:glance-api-sharecheck]
paste.composite_factory = glance.api:root_app_factory
/: api
/healthcheck: healthcheck

[composite:api]
paste.composite_factory = glance.api:pipeline_factory
sharecheck = cors http_proxy_to_wsgi versionnegotiation osprofiler statictoken context rootapp

[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/: apiversions
/v2: apiv2app

[app:apiversions]
paste.app_factory = glance.api.versions:create_resource

[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory

[app:healthcheck]
paste.app_factory = oslo_middleware:Healthcheck.app_factory
backends = disable_by_file
disable_by_file_path = $STATE/healthcheck_disable

[filter:versionnegotiation]
paste.filter_factory = glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory

[filter:context]
paste.filter_factory = glance.api.middleware.context:ContextMiddleware.factory

[filter:statictoken]
paste.filter_factory = glance_static_auth:filter_factory
www_authenticate_uri = http://127.0.0.1/identity
delay_auth_decision = true
keystone_url = $keystone

[filter:osprofiler]
paste.filter_factory = osprofiler.web:WsgiMiddleware.factory

[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = glance
oslo_config_program = glance-api

[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware:HTTPProxyToWSGI.factory
EOF

  cat >"$STATE/target.yaml" <<EOF
endpoint: http://127.0.0.1:$port
personas:
  owner:        {token: owner-token,        project_id: proj-owner}
  member:       {token: member-token,       project_id: proj-member}
  other_member: {token: other-member-token, project_id: proj-other-member}
  stranger:     {token: stranger-token,     project_id: proj-stranger}
  admin:        {token: admin-token,        project_id: proj-admin}
  reader:       {token: reader-token,       project_id: proj-owner}
member_quota: $quota
tag_quota: 128
capabilities: []
EOF
  # What discovery cannot tell. Glance before 30.0.0 has no format check of uploaded data:
  # say so, and the cases that need it stand aside with that reason.
  local format_match=$FORMAT_MATCH
  [[ $GLANCE_VERSION == 28.* ]] && format_match=false
  {
    echo "deployment:"
    echo "  locations_shown: $LOCATIONS_SHOWN"
    echo "  image_format_match: $format_match"
    echo "  cache: true"
    [[ -z $IMPORT_SOURCE ]] || echo "  import_source: $IMPORT_SOURCE"
  } >>"$STATE/target.yaml"
}

port_in_use() {
  # bash's /dev/tcp: succeeds if something accepts on 127.0.0.1:$1
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

use_release() {  # use_release VERSION: the venv and constraints of that Glance
  [[ " $RELEASES " == *" $1 "* ]] || die "--release must be one of $RELEASES, got '$1'"
  GLANCE_VERSION=$1
  if [[ $1 != 33.0.0 ]]; then
    VENV=$GHOME/venv-$1
    CONSTRAINTS=$SCRIPT_DIR/glance-$1-constraints.txt
  fi
}

cmd_start() {
  local port=9393 quota=5 keystone= database=sqlite profile=default source_port=
  while [[ $# -gt 0 ]]; do
    case $1 in
      --port) [[ $# -ge 2 ]] || usage; port=$2; shift 2 ;;
      --port=*) port=${1#*=}; shift ;;
      --member-quota) [[ $# -ge 2 ]] || usage; quota=$2; shift 2 ;;
      --member-quota=*) quota=${1#*=}; shift ;;
      --keystone) [[ $# -ge 2 ]] || usage; keystone=$2; shift 2 ;;
      --keystone=*) keystone=${1#*=}; shift ;;
      --database) [[ $# -ge 2 ]] || usage; database=$2; shift 2 ;;
      --database=*) database=${1#*=}; shift ;;
      --release) [[ $# -ge 2 ]] || usage; use_release "$2"; shift 2 ;;
      --release=*) use_release "${1#*=}"; shift ;;
      --profile) [[ $# -ge 2 ]] || usage; profile=$2; shift 2 ;;
      --profile=*) profile=${1#*=}; shift ;;
      --source-port) [[ $# -ge 2 ]] || usage; source_port=$2; shift 2 ;;
      --source-port=*) source_port=${1#*=}; shift ;;
      -h|--help) usage ;;
      *) echo "reference-glance: unknown option '$1'" >&2; usage ;;
    esac
  done
  [[ $port =~ ^[0-9]+$ ]] && (( port > 0 && port < 65536 )) || die "--port must be 1..65535, got '$port'"
  [[ $quota =~ ^-?[0-9]+$ ]] || die "--member-quota must be an integer, got '$quota'"
  [[ -z $keystone || $keystone =~ ^https?://[^/]+ ]] \
    || die "--keystone must be an http(s) URL of a Keystone v3 root, got '$keystone'"
  [[ $database == sqlite || $database == postgresql ]] \
    || die "--database must be sqlite or postgresql, got '$database'"
  [[ "|$PROFILES|" == *"|$profile|"* ]] || die "--profile must be one of $PROFILES, got '$profile'"
  source_port=${source_port:-$((port + 1))}
  [[ $source_port =~ ^[0-9]+$ ]] && (( source_port > 0 && source_port < 65536 )) \
    || die "--source-port must be 1..65535, got '$source_port'"
  command -v curl >/dev/null 2>&1 || die "curl is needed (apt-get install curl)"

  local t0=$SECONDS
  if pid_alive >/dev/null; then
    info "a previous reference Glance is running; stopping it"
    cmd_stop
  fi
  if port_in_use "$port"; then
    die "127.0.0.1:$port is already in use by another process (choose --port)"
  fi

  ensure_venv
  [[ $database == postgresql ]] && ensure_postgres

  # fresh state every start: empty database, empty stores
  if [[ -d $STATE && -n $(ls -A "$STATE") && ! -f $STATE/glance-api.conf ]]; then
    die "refusing to wipe $STATE: not empty and not a reference-glance state dir"
  fi
  pg_stop   # a cluster left by a start that failed half-way
  rm -rf "$STATE"
  mkdir -p "$STATE"
  local connection="sqlite:///$STATE/glance.sqlite?timeout=30"
  local workers=(--workers 1 --worker-class sync)
  if [[ $database == postgresql ]]; then
    pg_start $((port + 1000))
    connection="postgresql+psycopg2://glance@127.0.0.1:$((port + 1000))/glance"
    workers=(--workers 2 --threads 4 --worker-class gthread)
  fi
  write_config "$port" "$quota" "$keystone" "$connection" "$profile" "$source_port"

  info "glance-manage db_sync"
  if ! "$VENV/bin/glance-manage" --config-file "$STATE/glance-api.conf" db_sync \
      >"$STATE/db_sync.log" 2>&1; then
    tail -n 30 "$STATE/db_sync.log" >&2
    die "glance-manage db_sync failed (full log: $STATE/db_sync.log)"
  fi
  if [[ $METADEFS == yes ]]; then
    # the metadata definitions Glance ships (etc/glance/metadefs in the venv)
    local metadefs=$VENV/etc/glance/metadefs
    [[ -d $metadefs ]] || die "no shipped metadata definitions at $metadefs"
    info "glance-manage db_load_metadefs ($(ls "$metadefs"/*.json | wc -l) files)"
    if ! "$VENV/bin/glance-manage" --config-file "$STATE/glance-api.conf" \
        db_load_metadefs "$metadefs" >"$STATE/db_load_metadefs.log" 2>&1; then
      tail -n 30 "$STATE/db_load_metadefs.log" >&2
      die "glance-manage db_load_metadefs failed (full log: $STATE/db_load_metadefs.log)"
    fi
  fi

  # Glance 29 and later ship glance.wsgi.api; older releases build the app in wsgi_app.
  local app='glance.common.wsgi_app:init_app()'
  "$VENV/bin/python" -c 'import glance.wsgi.api' 2>/dev/null && app=glance.wsgi.api:application
  info "starting gunicorn on 127.0.0.1:$port"
  (
    cd "$STATE"
    export OS_GLANCE_CONFIG_DIR=$STATE
    # $SCRIPT_DIR holds the identity filter and sitecustomize.py (sqlite
    # transactions open with BEGIN IMMEDIATE).
    export PYTHONPATH=$SCRIPT_DIR${PYTHONPATH:+:$PYTHONPATH}
    exec setsid "$VENV/bin/gunicorn" \
      --bind "127.0.0.1:$port" \
      "${workers[@]}" --timeout 120 \
      --name sharecheck-glance \
      --pid "$STATE/gunicorn.pid" \
      "$app" \
      </dev/null >"$LOG" 2>&1
  ) &
  echo $! >"$PIDFILE"

  local ok=""
  for _ in $(seq 1 120); do
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      tail -n 40 "$LOG" >&2
      rm -f "$PIDFILE"
      pg_stop
      die "gunicorn exited during start-up (log: $LOG)"
    fi
    if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/versions" 2>/dev/null; then
      ok=1; break
    fi
    sleep 0.5
  done
  if [[ -n $ok && -s $STATE/gunicorn.pid ]]; then
    cp "$STATE/gunicorn.pid" "$PIDFILE"   # the master's own pid, in case setsid forked
  fi
  if [[ -z $ok ]]; then
    tail -n 40 "$LOG" >&2
    cmd_stop || true
    die "Glance did not answer GET /versions within 60 s (log: $LOG)"
  fi
  info "Glance $GLANCE_VERSION ($database, ${workers[*]}, profile $profile) up in $((SECONDS - t0)) s; state $STATE; target $STATE/target.yaml"
  echo "listening on http://127.0.0.1:$port"
}

[[ $# -ge 1 ]] || usage
sub=$1; shift
case $sub in
  start) cmd_start "$@" ;;
  stop) [[ $# -eq 0 ]] || usage; cmd_stop ;;
  status) cmd_status ;;
  *) usage ;;
esac
