#!/usr/bin/env bash
# Rough probe of a reference Glance started by scripts/reference-glance.sh
# (static tokens, member quota 5).  Records every request/response.
#
#   scripts/probe-glance.sh [ENDPOINT]      (default http://127.0.0.1:9393)
#
# Output (dir: $PROBE_OUT, default /tmp/glance-probe):
#   transcript.txt   raw requests + full responses (headers and bodies)
#   summary.tsv      one line per request: label, status, key headers, body shape
#   schema-*.json, versions.json, root.json
# Run it against a FRESHLY started Glance (it assumes member quota 5 and no
# pre-existing images).
set -uo pipefail

EP=${1:-${GLANCE_ENDPOINT:-http://127.0.0.1:9393}}
OUT=${PROBE_OUT:-/tmp/glance-probe}
mkdir -p "$OUT"
T=$OUT/transcript.txt
S=$OUT/summary.tsv
: >"$T"
printf 'label\tstatus\theaders\tbody\n' >"$S"
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT

command -v jq >/dev/null || { echo "probe-glance: jq is needed" >&2; exit 1; }
curl -fsS -o /dev/null "$EP/versions" || { echo "probe-glance: $EP not answering" >&2; exit 1; }

STATUS="" BODY=""
# req LABEL TOKEN METHOD PATH [curl args...]
#   TOKEN: persona token, "-" for no X-Auth-Token header, "EMPTY" for an empty one
#   ACCEPT env: Accept header value (default application/json; "NONE" = no header)
req() {
  local label=$1 tok=$2 method=$3 path=$4; shift 4
  local accept=${ACCEPT:-application/json}
  local args=(-sS -i -X "$method")
  if [[ $accept == NONE ]]; then args+=(-H 'Accept:'); else args+=(-H "Accept: $accept"); fi
  case $tok in
    -) ;;
    EMPTY) args+=(-H 'X-Auth-Token;') ;;
    *) args+=(-H "X-Auth-Token: $tok") ;;
  esac
  {
    echo "=================================================================="
    echo "### $label"
    echo "> $method $path  token=$tok accept=$accept ${*:+extra: $*}"
  } >>"$T"
  curl "${args[@]}" "$@" "$EP$path" >"$TMPD/resp" 2>>"$T"
  tr -d '\r' <"$TMPD/resp" >>"$T"
  echo >>"$T"
  STATUS=$(tr -d '\r' <"$TMPD/resp" | awk 'NR==1{print $2}')
  BODY=$(tr -d '\r' <"$TMPD/resp" | awk 'body{print} /^$/{body=1}')
  local hdrs
  hdrs=$(tr -d '\r' <"$TMPD/resp" | awk '/^$/{exit} NR>1' |
    grep -i -E '^(allow|www-authenticate|x-openstack-request-id|location|retry-after|content-type|content-length):' |
    sed -E 's/(x-openstack-request-id: )req-[0-9a-f-]+/\1req-UUID/I' | paste -sd ';' -)
  local shape
  if jq -e . >/dev/null 2>&1 <<<"$BODY"; then
    shape=$(jq -c 'if type=="object" then (if has("message") then {code,title,message:(.message|.[0:160])}
                   elif has("members") then {members:[.members[]|{member_id,status}],schema}
                   elif has("member_id") then {member_id,status,keys:(keys)}
                   elif has("images") then {images:[.images[]|{name,visibility,owner}],keys:(keys)}
                   elif has("id") then {id,name,visibility,owner,keys:(keys)}
                   else {keys:(keys)} end) else . end' <<<"$BODY" 2>/dev/null)
  else
    shape=$(printf '%s' "$BODY" | tr '\n' ' ' | cut -c1-200)
    [[ -z $shape ]] && shape="(empty)"
  fi
  printf '%s\t%s\t%s\t%s\n' "$label" "$STATUS" "$hdrs" "$shape" >>"$S"
  printf '%-60s %s\n' "$label" "$STATUS"
}
# jreq LABEL TOKEN METHOD PATH BODY [curl args...]  (JSON content type)
jreq() {
  local label=$1 tok=$2 method=$3 path=$4 body=$5; shift 5
  local ct=application/json
  [[ $method == PATCH ]] && ct=application/openstack-images-v2.1-json-patch
  req "$label" "$tok" "$method" "$path" -H "Content-Type: $ct" --data-binary "$body" "$@"
}
newimg() { # newimg LABEL TOKEN BODY -> sets NEWID
  jreq "$1" "$2" POST /v2/images "$3"
  NEWID=$(jq -r '.id // empty' <<<"$BODY" 2>/dev/null)
}
section() { echo "##################### $* #####################" | tee -a "$T"; }

O=owner-token M=member-token OM=other-member-token X=stranger-token A=admin-token

section "1. images"
newimg "1a POST image shared as owner" $O '{"name":"x","visibility":"shared"}'; IMG=$NEWID
newimg "1b POST image public as owner" $O '{"name":"pub-o","visibility":"public"}'
newimg "1c POST image public as admin" $A '{"name":"pub-a","visibility":"public"}'; PUB_A=$NEWID
newimg "1d POST image community as owner" $O '{"name":"comm","visibility":"community"}'; COMM=$NEWID
newimg "1e POST image owner=proj-owner as admin" $A '{"name":"adm-for-owner","owner":"proj-owner","visibility":"shared"}'
newimg "1f POST image owner=proj-other as owner" $O '{"name":"steal","owner":"proj-other"}'
newimg "1g POST image extra prop foo=bar as owner" $O '{"name":"extra","foo":"bar"}'
newimg "1h POST image invalid visibility" $O '{"name":"bad","visibility":"bogus"}'
newimg "1i POST image body not JSON" $O 'not json'
newimg "1j POST image no visibility (default)" $O '{"name":"default-vis"}'
newimg "1k POST image private as owner" $O '{"name":"priv","visibility":"private"}'; PRIV=$NEWID
newimg "1l POST image public owner=proj-owner as admin" $A '{"name":"pub-owner","visibility":"public","owner":"proj-owner"}'; PUB_O=$NEWID
newimg "1m POST image second shared (bodies)" $O '{"name":"bodies","visibility":"shared"}'; IMG2=$NEWID
req "1n GET image as owner" $O GET "/v2/images/$IMG"
[[ -n $IMG && -n $IMG2 ]] || { echo "probe-glance: could not create images; see $T" >&2; exit 1; }

section "2. add members (image $IMG, quota 5)"
P=/v2/images/$IMG/members
jreq "2a POST member proj-member as owner" $O POST $P '{"member":"proj-member"}'
jreq "2b POST duplicate proj-member as owner" $O POST $P '{"member":"proj-member"}'
jreq "2c POST proj-other-member as owner" $O POST $P '{"member":"proj-other-member"}'
jreq "2d POST proj-x as member" $M POST $P '{"member":"proj-x"}'
jreq "2e POST proj-x as stranger" $X POST $P '{"member":"proj-x"}'
jreq "2f POST proj-a1 as admin" $A POST $P '{"member":"proj-a1"}'
jreq "2g POST proj-a2 as owner (4th)" $O POST $P '{"member":"proj-a2"}'
jreq "2h POST proj-a3 as owner (5th)" $O POST $P '{"member":"proj-a3"}'
jreq "2i POST proj-a4 as owner (6th, over quota)" $O POST $P '{"member":"proj-a4"}'
jreq "2j POST duplicate proj-member when full (quota vs dup)" $O POST $P '{"member":"proj-member"}'
jreq "2k POST body {} when full (400 vs 413)" $O POST $P '{}'
jreq "2l POST 6th as admin when full" $A POST $P '{"member":"proj-a4"}'
P2=/v2/images/$IMG2/members
req  "2m POST no body" $O POST $P2
req  "2m2 POST no body, Content-Type json" $O POST $P2 -H 'Content-Type: application/json'
jreq "2n POST body 'not json'" $O POST $P2 'not json'
jreq "2o POST body []" $O POST $P2 '[]'
jreq "2p POST body {}" $O POST $P2 '{}'
jreq "2q POST body member empty" $O POST $P2 '{"member":""}'
jreq "2r POST body member 5 (number)" $O POST $P2 '{"member": 5}'
jreq "2s POST body member null" $O POST $P2 '{"member": null}'
jreq "2t POST extra key" $O POST $P2 '{"member":"proj-extra","status":"accepted"}'
req  "2u POST valid JSON with Content-Type text/plain" $O POST $P2 -H 'Content-Type: text/plain' --data-binary '{"member":"proj-ct"}'
jreq "2v POST bad body as stranger (400 vs 404)" $X POST $P2 'not json'
jreq "2w POST bad body on unknown image (400 vs 404)" $O POST /v2/images/00000000-0000-4000-8000-000000000000/members 'not json'
jreq "2x POST member with 300-char id" $O POST $P2 "{\"member\":\"$(printf 'a%.0s' $(seq 300))\"}"
jreq "2y POST X-Openstack-Request-ID reuse" $O POST $P2 '{"member":"proj-reqid"}' -H 'X-Openstack-Request-ID: req-11111111-2222-3333-4444-555555555555'

section "3. list / show members"
req "3a GET members as owner" $O GET $P
req "3b GET members as member (pending)" $M GET $P
req "3c GET members as stranger" $X GET $P
req "3d GET members as admin" $A GET $P
req "3e GET member proj-member as owner" $O GET $P/proj-member
req "3f GET member self as member" $M GET $P/proj-member
req "3g GET member other as member" $M GET $P/proj-other-member
req "3h GET member as stranger" $X GET $P/proj-member
req "3i GET unknown member as owner" $O GET $P/proj-nope
req "3j GET member as admin" $A GET $P/proj-member
req "3k GET stranger's own (non-)membership as stranger" $X GET $P/proj-stranger

section "4. update member status"
jreq "4a PUT accepted as member" $M PUT $P/proj-member '{"status":"accepted"}'
jreq "4b PUT rejected as member" $M PUT $P/proj-member '{"status":"rejected"}'
jreq "4c PUT pending as member" $M PUT $P/proj-member '{"status":"pending"}'
jreq "4d PUT invalid value as member" $M PUT $P/proj-member '{"status":"bogus"}'
jreq "4e PUT missing key as member" $M PUT $P/proj-member '{}'
jreq "4f PUT not JSON as member" $M PUT $P/proj-member 'not json'
req  "4g PUT no body as member" $M PUT $P/proj-member
jreq "4h PUT valid as owner" $O PUT $P/proj-member '{"status":"accepted"}'
jreq "4i PUT invalid as owner" $O PUT $P/proj-member '{"status":"bogus"}'
jreq "4j PUT as other member on member's entry" $OM PUT $P/proj-member '{"status":"accepted"}'
jreq "4k PUT as stranger" $X PUT $P/proj-member '{"status":"accepted"}'
jreq "4l PUT as admin" $A PUT $P/proj-member '{"status":"accepted"}'
jreq "4m PUT unknown member as owner" $O PUT $P/proj-nope '{"status":"accepted"}'
jreq "4n PUT status extra key as member" $M PUT $P/proj-member '{"status":"accepted","member":"x"}'
req  "4o PUT with Content-Type text/plain as member" $M PUT $P/proj-member -H 'Content-Type: text/plain' --data-binary '{"status":"accepted"}'
jreq "4p PUT invalid as admin" $A PUT $P/proj-member '{"status":"bogus"}'
jreq "4q PUT not JSON as owner" $O PUT $P/proj-member 'not json'
jreq "4r PUT as owner on own project id (not member)" $O PUT $P/proj-owner '{"status":"accepted"}'
jreq "4s PUT same status twice" $M PUT $P/proj-member '{"status":"accepted"}'

section "5. delete members"
req "5a DELETE proj-a1 as owner" $O DELETE $P/proj-a1
req "5a2 GET deleted member as owner" $O GET $P/proj-a1
req "5b DELETE self as member" $M DELETE $P/proj-member
req "5c DELETE other's entry as member" $M DELETE $P/proj-other-member
req "5d DELETE as stranger" $X DELETE $P/proj-member
req "5e DELETE unknown member as owner" $O DELETE $P/proj-nope
req "5f DELETE proj-a2 as owner" $O DELETE $P/proj-a2
req "5g DELETE proj-a2 again as owner" $O DELETE $P/proj-a2
req "5h DELETE proj-a3 as admin" $A DELETE $P/proj-a3
jreq "5i DELETE with body {}" $O DELETE $P/proj-other-member '{}'
req  "5j DELETE with body x" $O DELETE $P/proj-other-member -H 'Content-Type: text/plain' --data-binary 'x'
req  "5k DELETE with Content-Length: 0 (other-member)" $O DELETE $P/proj-other-member -H 'Content-Length: 0'
req  "5l GET image as removed other-member" $OM GET /v2/images/$IMG
req  "5m GET members as removed other-member" $OM GET $P
jreq "5n DELETE with body {} on unknown member" $O DELETE $P/proj-nope '{}'
jreq "5o DELETE with body as stranger" $X DELETE $P/proj-member '{}'
req  "5p DELETE own project id as owner" $O DELETE $P/proj-owner

section "6. member ops on private/public/community images"
for pair in "private:$PRIV" "public-owner:$PUB_O" "community:$COMM" "public-admin-owned:$PUB_A"; do
  name=${pair%%:*} id=${pair#*:}
  for who in owner admin; do
    tok=$O; [[ $who == admin ]] && tok=$A
    jreq "6 $name POST member as $who" $tok POST /v2/images/$id/members '{"member":"proj-member"}'
    req  "6 $name GET members as $who" $tok GET /v2/images/$id/members
    req  "6 $name GET member as $who" $tok GET /v2/images/$id/members/proj-member
    jreq "6 $name PUT member as $who" $tok PUT /v2/images/$id/members/proj-member '{"status":"accepted"}'
    req  "6 $name DELETE member as $who" $tok DELETE /v2/images/$id/members/proj-member
  done
  req  "6 $name GET members as member" $M GET /v2/images/$id/members
  jreq "6 $name PUT member as member" $M PUT /v2/images/$id/members/proj-member '{"status":"accepted"}'
  jreq "6 $name POST bad body as owner (400 vs 403)" $O POST /v2/images/$id/members 'not json'
done
# share a private image: does visibility change keep members?
newimg "6x POST shared image for visibility flip" $O '{"name":"flip","visibility":"shared"}'; FLIP=$NEWID
jreq "6x add member" $O POST /v2/images/$FLIP/members '{"member":"proj-member"}'
jreq "6x PATCH visibility private" $O PATCH /v2/images/$FLIP '[{"op":"replace","path":"/visibility","value":"private"}]'
req  "6x GET members after flip to private" $O GET /v2/images/$FLIP/members
jreq "6x PATCH visibility shared again" $O PATCH /v2/images/$FLIP '[{"op":"replace","path":"/visibility","value":"shared"}]'
req  "6x GET members after flip back" $O GET /v2/images/$FLIP/members

section "7. image ids"
U=00000000-0000-4000-8000-000000000000
UP=$(tr 'a-f' 'A-F' <<<"$IMG")
req  "7a GET members unknown uuid" $O GET /v2/images/$U/members
jreq "7b POST member unknown uuid" $O POST /v2/images/$U/members '{"member":"proj-member"}'
req  "7c DELETE member unknown uuid" $O DELETE /v2/images/$U/members/proj-member
req  "7d GET members not-a-uuid" $O GET /v2/images/not-a-uuid/members
req  "7e DELETE member not-a-uuid" $O DELETE /v2/images/not-a-uuid/members/proj-member
jreq "7f POST member not-a-uuid" $O POST /v2/images/not-a-uuid/members '{"member":"proj-member"}'
req  "7g GET members upper-case uuid" $O GET /v2/images/$UP/members
req  "7h GET image upper-case uuid" $O GET /v2/images/$UP
req  "7i GET member upper-case uuid" $O GET /v2/images/$UP/members/proj-member
req  "7j GET image not-a-uuid" $O GET /v2/images/not-a-uuid

section "8. 405"
req "8a PATCH /members/{id}" $O PATCH $P/proj-member -H 'Content-Type: application/json' --data-binary '{}'
req "8b POST /members/{id}" $O POST $P/proj-member -H 'Content-Type: application/json' --data-binary '{}'
req "8c DELETE /members" $O DELETE $P
req "8d PUT /members" $O PUT $P -H 'Content-Type: application/json' --data-binary '{}'
req "8e PATCH /members" $O PATCH $P -H 'Content-Type: application/json' --data-binary '{}'
req "8f HEAD /members" $O HEAD $P
req "8g DELETE /members as stranger" $X DELETE $P
req "8h DELETE /members unknown image" $O DELETE /v2/images/$U/members
req "8i DELETE /members no token" - DELETE $P
req "8j OPTIONS /members" $O OPTIONS $P
req "8k POST /members/{id} on not-a-uuid" $O POST /v2/images/not-a-uuid/members/x

section "9. 401"
req "9a no token GET members" - GET $P
req "9b empty token GET members" EMPTY GET $P
req "9c bad token GET members" bogus-token GET $P
req "9d bad token DELETE member" bogus-token DELETE $P/proj-member
ACCEPT=text/plain req "9e bad token Accept text/plain" bogus-token GET $P
ACCEPT=NONE req "9f bad token no Accept" bogus-token GET $P
req "9g bad token with client request id" bogus-token GET $P -H 'X-Openstack-Request-ID: req-11111111-2222-3333-4444-555555555555'
req "9h spoofed identity headers, no token" - GET $P -H 'X-Identity-Status: Confirmed' -H 'X-Project-Id: proj-owner' -H 'X-Roles: admin'
req "9i bad token GET /versions" bogus-token GET /versions
req "9j bad token unknown path" bogus-token GET /v2/nothing-here

section "10. member's image list (fresh image L)"
newimg "10 POST image L shared" $O '{"name":"L","visibility":"shared"}'; L=$NEWID
jreq "10 add proj-member to L" $O POST /v2/images/$L/members '{"member":"proj-member"}'
list() { # list LABEL TOKEN QUERY
  req "$1" "$2" GET "/v2/images$3"
}
list "10a member list default (pending)" $M ""
list "10b member list member_status=pending" $M "?member_status=pending"
list "10c member list visibility=shared (pending)" $M "?visibility=shared"
list "10d member list visibility=shared&member_status=pending" $M "?visibility=shared&member_status=pending"
list "10e member list member_status=all" $M "?member_status=all"
list "10f member list member_status=bogus" $M "?member_status=bogus"
req  "10g GET image L as member (pending)" $M GET /v2/images/$L
jreq "10h accept L" $M PUT /v2/images/$L/members/proj-member '{"status":"accepted"}'
list "10i member list default (accepted)" $M ""
list "10j member list member_status=accepted" $M "?member_status=accepted"
list "10k member list visibility=shared (accepted)" $M "?visibility=shared"
list "10l member list member_status=pending (accepted)" $M "?member_status=pending"
jreq "10m reject L" $M PUT /v2/images/$L/members/proj-member '{"status":"rejected"}'
list "10n member list default (rejected)" $M ""
list "10o member list member_status=rejected" $M "?member_status=rejected"
list "10p member list visibility=shared&member_status=rejected" $M "?visibility=shared&member_status=rejected"
list "10q member list member_status=all (rejected)" $M "?member_status=all"
req  "10r GET image L as member (rejected)" $M GET /v2/images/$L
list "10s owner list visibility=shared" $O "?visibility=shared"
list "10t owner list default" $O ""
list "10u stranger list default (community?)" $X ""
list "10v stranger list visibility=community" $X "?visibility=community"
list "10w member list visibility=private" $M "?visibility=private"
list "10x admin list default" $A ""
list "10y owner list member_status=all" $O "?member_status=all"
list "10z owner list visibility=bogus" $O "?visibility=bogus"

section "11. image GET/DELETE and memberships after delete (fresh image D)"
newimg "11 POST image D shared" $O '{"name":"D","visibility":"shared"}'; D=$NEWID
jreq "11 add proj-member to D" $O POST /v2/images/$D/members '{"member":"proj-member"}'
req "11a GET image D as member (pending)" $M GET /v2/images/$D
req "11b GET image D as stranger" $X GET /v2/images/$D
req "11c DELETE image D as member" $M DELETE /v2/images/$D
req "11d DELETE image D as stranger" $X DELETE /v2/images/$D
req "11e DELETE image D as owner" $O DELETE /v2/images/$D
req "11f GET image D after delete" $O GET /v2/images/$D
req "11g GET members after delete (owner)" $O GET /v2/images/$D/members
req "11h GET member after delete (member)" $M GET /v2/images/$D/members/proj-member
req "11i DELETE member after delete" $O DELETE /v2/images/$D/members/proj-member
jreq "11j POST member after delete" $O POST /v2/images/$D/members '{"member":"proj-other-member"}'
list "11k member list member_status=all after delete" $M "?member_status=all"
req "11l DELETE image D again" $O DELETE /v2/images/$D

section "12. versions and schemas"
req "12a GET /" - GET /
printf '%s\n' "$BODY" >"$OUT/root.json"
req "12a2 GET / with token" $O GET /
req "12b GET /versions" - GET /versions
printf '%s\n' "$BODY" >"$OUT/versions.json"
req "12b2 GET /v2/ (no token)" - GET /v2/
for s in member members image images; do
  req "12c GET /v2/schemas/$s" $O GET /v2/schemas/$s
  printf '%s\n' "$BODY" >"$OUT/schema-$s.json"
done
req "12d GET /v2/schemas/member no token" - GET /v2/schemas/member

section "13. error body formats"
for acc in text/plain NONE 'text/html' '*/*'; do
  ACCEPT=$acc req "13 404 GET member Accept=$acc" $O GET $P/proj-nope
  ACCEPT=$acc req "13 400 POST member not json Accept=$acc" $O POST $P2 -H 'Content-Type: application/json' --data-binary 'not json'
  ACCEPT=$acc req "13 401 Accept=$acc" - GET $P
  ACCEPT=$acc req "13 405 Accept=$acc" $O PATCH $P/proj-member
  ACCEPT=$acc req "13 200 GET members Accept=$acc" $O GET $P
done

section "14. re-add removed member"
newimg "14 POST image R shared" $O '{"name":"R","visibility":"shared"}'; R=$NEWID
jreq "14a add proj-member" $O POST /v2/images/$R/members '{"member":"proj-member"}'
sleep 1.2
jreq "14b accept" $M PUT /v2/images/$R/members/proj-member '{"status":"accepted"}'
req  "14c remove" $O DELETE /v2/images/$R/members/proj-member
req  "14d GET image as removed member" $M GET /v2/images/$R
sleep 1.2
jreq "14e re-add proj-member" $O POST /v2/images/$R/members '{"member":"proj-member"}'
req  "14f GET member after re-add" $M GET /v2/images/$R/members/proj-member
req  "14g GET members as owner" $O GET /v2/images/$R/members

echo "transcript: $T"
echo "summary:    $S"
