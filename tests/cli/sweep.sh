#!/bin/sh
# `sweep --prefix P` against `serve --port 0` (a process of its own, stopped
# by its PID): through the server, curl creates an authentication, a source,
# a task over that source and a destination, and 101 more destinations, all
# named with P (more than one page of 100), and one of each named
# otherwise. A dry run lists the prefixed ones and deletes nothing; --yes
# deletes exactly those, the task first (the mock refuses to delete a
# source a task uses); a second --yes finds nothing and exits 0. A short
# prefix and a deletion refused by the server are checked too.
# Usage: sweep.sh INGESTCHECK WORK_DIR
set -u
bin="$1"
work="$2"
pid=""
fail() {
    echo "FAIL: $*"
    exit 1
}
command -v curl >/dev/null 2>&1 || { echo "SKIP: no curl"; exit 77; }
mkdir -p "$work" && work=$(mktemp -d "$work/run.XXXXXX") || fail "cannot create a directory in $work"
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null' EXIT
export INGESTCHECK_MOCK_APP_ID=SWEEP ALGOLIA_APPLICATION_ID=SWEEP
export INGESTCHECK_MOCK_API_KEY="key-$$" ALGOLIA_API_KEY="key-$$"

"$bin" serve --no-color --port 0 >"$work/serve.txt" 2>&1 &
pid=$!
port=""
i=0
while [ -z "$port" ] && [ $i -lt 300 ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/serve.txt"; fail "serve exited"; }
    port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$work/serve.txt")
    [ -n "$port" ] || sleep 0.1
    i=$((i + 1))
done
[ -n "$port" ] || { cat "$work/serve.txt"; fail "serve: no listening line in 30 s"; }
url="http://127.0.0.1:$port"

# api METHOD PATH [BODY]: prints the answer's body; fails on a non-2xx.
api() {
    curl -sS -f -X "$1" -H "x-algolia-application-id: $ALGOLIA_APPLICATION_ID" \
        -H "x-algolia-api-key: $ALGOLIA_API_KEY" -H 'content-type: application/json' \
        ${3:+--data "$3"} "$url$2" || fail "$1 $2 failed"
}
# id_of MEMBER: the value of "MEMBER" in the JSON on stdin.
id_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# create NAME_PREFIX: an authentication, a source, a destination and a task
# over them; prints "AUTH SOURCE DEST TASK".
create() {
    a=$(api POST /1/authentications "{\"type\":\"basic\",\"name\":\"$1-auth\",\"input\":{\"username\":\"u\",\"password\":\"p\"}}" | id_of authenticationID)
    s=$(api POST /1/sources "{\"type\":\"json\",\"name\":\"$1-src\",\"input\":{\"url\":\"https://example.com/x.json\"}}" | id_of sourceID)
    d=$(api POST /1/destinations "{\"type\":\"search\",\"name\":\"$1-dst\",\"input\":{\"indexName\":\"$1_idx\"},\"authenticationID\":\"$a\"}" | id_of destinationID)
    t=$(api POST /1/tasks "{\"sourceID\":\"$s\",\"destinationID\":\"$d\",\"trigger\":{\"type\":\"onDemand\"},\"action\":\"replace\"}" | id_of taskID)
    echo "$a $s $d $t"
}
set -- $(create swp1) || exit 1
pa=$1 ps=$2 pd=$3 pt=$4
set -- $(create keep) || exit 1
ka=$1 ks=$2 kd=$3 kt=$4
n=0
while [ $n -lt 101 ]; do
    api POST /1/destinations "{\"type\":\"search\",\"name\":\"swp1-more-$n\",\"input\":{\"indexName\":\"m$n\"}}" >/dev/null
    n=$((n + 1))
done
# count PATH MEMBER: the number of items of a list (one page of 100 is enough
# for what the test keeps).
count() { api GET "$1?itemsPerPage=100" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["pagination"]["nbItems"])'; }
[ "$(count /1/destinations)" = 103 ] || fail "setup: $(count /1/destinations) destinations, want 103"

# A dry run lists the prefixed ones: 1 task, 1 source, 102 destinations, 1
# authentication, and deletes nothing.
"$bin" sweep --prefix swp1 --base-url "$url" >"$work/dry.txt" 2>"$work/dry.err"
rc=$?
[ $rc = 0 ] || { cat "$work/dry.txt" "$work/dry.err"; fail "dry run exit $rc"; }
[ ! -s "$work/dry.err" ] || { cat "$work/dry.err"; fail "dry run wrote to stderr"; }
grep -qx "sweep swp1: 105 to delete (dry run; --yes deletes them)" "$work/dry.txt" ||
    { cat "$work/dry.txt"; fail "dry run summary"; }
for w in "task $pt (over \"swp1-src\")" "source $ps \"swp1-src\"" "destination $pd \"swp1-dst\"" \
    "authentication $pa \"swp1-auth\"" 'destination .* "swp1-more-0"' 'destination .* "swp1-more-100"'; do
    grep -qx "would delete $w" "$work/dry.txt" || { cat "$work/dry.txt"; fail "dry run lacks: $w"; }
done
grep -q "keep" "$work/dry.txt" && fail "dry run lists what does not carry the prefix"
# The order: tasks, sources, destinations, authentications.
kinds=$(sed -n 's/^would delete \([a-z]*\) .*/\1/p' "$work/dry.txt" | uniq | tr '\n' ' ')
[ "$kinds" = "task source destination authentication " ] || fail "dry run order: $kinds"
[ "$(count /1/destinations)" = 103 ] || fail "the dry run deleted destinations"
api GET "/1/tasks/$pt" >/dev/null

# A prefix that is too short, or none: refused, one line, exit 2.
for p in "" swp; do
    "$bin" sweep --prefix "$p" --base-url "$url" >"$work/short.txt" 2>"$work/short.err"
    rc=$?
    [ $rc = 2 ] || fail "prefix '$p': exit $rc, want 2"
    [ "$(wc -l <"$work/short.err")" = 1 ] || { cat "$work/short.err"; fail "prefix '$p': not one line"; }
done

# A deletion the server refuses (the authentication of a destination that
# is not swept: "keep-dst" now uses it): one line, exit 1, the rest deleted.
api PATCH "/1/destinations/$kd" "{\"authenticationID\":\"$pa\"}" >/dev/null
"$bin" sweep --prefix swp1 --yes --base-url "$url" >"$work/yes1.txt" 2>"$work/yes1.err"
rc=$?
[ $rc = 1 ] || { cat "$work/yes1.txt" "$work/yes1.err"; fail "sweep with a refused deletion: exit $rc, want 1"; }
[ "$(wc -l <"$work/yes1.err")" = 1 ] && grep -q "^ingestcheck: cannot delete authentication $pa \"swp1-auth\": answered 4" "$work/yes1.err" ||
    { cat "$work/yes1.err"; fail "refused deletion: not one line naming it"; }
grep -qx "sweep swp1: 104 deleted, 1 failed" "$work/yes1.txt" || { cat "$work/yes1.txt"; fail "summary with a failure"; }
kinds=$(sed -n 's/^deleted \([a-z]*\) .*/\1/p' "$work/yes1.txt" | uniq | tr '\n' ' ')
[ "$kinds" = "task source destination " ] || fail "deletion order: $kinds"
[ "$(count /1/destinations)" = 1 ] || fail "$(count /1/destinations) destinations left, want 1 (keep-dst)"
[ "$(count /1/sources)" = 1 ] && [ "$(count /1/tasks)" = 1 ] && [ "$(count /1/authentications)" = 2 ] ||
    fail "after the sweep: sources, tasks or authentications not as expected"
api GET "/1/tasks/$kt" >/dev/null
api GET "/1/sources/$ks" >/dev/null
api GET "/1/authentications/$ka" >/dev/null

# Free the authentication: the next sweep deletes it, the one after finds
# nothing.
api PATCH "/1/destinations/$kd" "{\"authenticationID\":\"$ka\"}" >/dev/null
"$bin" sweep --prefix swp1 --yes --base-url "$url" >"$work/yes2.txt" 2>&1 ||
    { cat "$work/yes2.txt"; fail "second sweep exit $?"; }
grep -qx "deleted authentication $pa \"swp1-auth\"" "$work/yes2.txt" || { cat "$work/yes2.txt"; fail "second sweep"; }
"$bin" sweep --prefix swp1 --yes --base-url "$url" >"$work/yes3.txt" 2>&1 ||
    { cat "$work/yes3.txt"; fail "third sweep exit $?"; }
grep -qx "sweep swp1: 0 deleted, 0 failed" "$work/yes3.txt" || { cat "$work/yes3.txt"; fail "third sweep"; }
[ "$(count /1/authentications)" = 1 ] || fail "authentications left"

kill "$pid"
wait "$pid"
rc=$?
pid=""
[ $rc = 0 ] || fail "serve exit $rc on SIGTERM"
echo "sweep: dry run, a refused deletion, --yes in order, and nothing left"
