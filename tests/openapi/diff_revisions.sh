#!/bin/sh
# `spec diff` on the given revisions of the Ingestion spec (../shared/spec
# relative to the source root; skip 77 when absent): default (April 2024)
# -> 2024-11 -> 2025-09, and 2023-06 -> default. Asserts facts read in the
# YAML (operations renamed, removed and added, with their lines), the exit
# codes with and without --fail-on-breaking, that --json is valid against
# tests/data/spec/diff-output.schema.json (read by ingestcheck's strict JSON
# parser) and the --markdown tables.
# Usage: diff_revisions.sh INGESTCHECK SOURCE_DIR WORK_DIR
set -u
. "$(dirname "$0")/../common/valgrind.sh"
bin="$1"
src="$2"
work="$3"
shared="$src/../shared/spec"
fail() {
    echo "FAIL: $*"
    exit 1
}
[ -d "$shared/revisions" ] || { echo "SKIP: no $shared/revisions"; exit 77; }
mkdir -p "$work" && work=$(mktemp -d "$work/run.XXXXXX") || fail "cannot create a directory in $work"
default="$shared/ingestion.yml"
r2023=$(ls "$shared"/revisions/ingestion-2023-06-*.yml | head -1)
r2024=$(ls "$shared"/revisions/ingestion-2024-11-*.yml | head -1)
r2025=$(ls "$shared"/revisions/ingestion-2025-09-*.yml | head -1)
for f in "$default" "$r2023" "$r2024" "$r2025"; do [ -f "$f" ] || fail "missing $f"; done

# diff NAME OLD NEW: console, JSON and Markdown outputs into $work/NAME.*,
# each exiting 0; --fail-on-breaking exits 1 (every pair here has a
# breaking change) and prints the same as without it.
diff_pair() {
    $run "$bin" spec diff --no-color "$2" "$3" >"$work/$1.txt" 2>"$work/$1.err" ||
        fail "$1: exit $? ($(cat "$work/$1.err"))"
    $run "$bin" spec diff --no-color --fail-on-breaking "$2" "$3" >"$work/$1.fail.txt" 2>&1
    code=$?
    [ "$code" -eq 1 ] || fail "$1: --fail-on-breaking exit $code, want 1"
    cmp -s "$work/$1.txt" "$work/$1.fail.txt" || fail "$1: --fail-on-breaking changed the output"
    $run "$bin" spec diff --json "$2" "$3" >"$work/$1.json" || fail "$1 --json: exit $?"
    "$bin" validate -q --schema "$src/tests/data/spec/diff-output.schema.json" "$work/$1.json" ||
        fail "$1: --json is not valid against diff-output.schema.json"
    $run "$bin" spec diff --markdown "$2" "$3" >"$work/$1.md" || fail "$1 --markdown: exit $?"
    grep -q '^| \*\*breaking\*\* | ' "$work/$1.md" || fail "$1: no breaking row in the Markdown"
    echo "ok $1: $(tail -1 "$work/$1.txt")"
}
# has NAME TEXT: the console output of NAME has the line TEXT (fixed string).
has() {
    grep -qxF -- "$2" "$work/$1.txt" || fail "$1: no line '$2'"
}

diff_pair d24 "$default" "$r2024"
# getTasks (ingestion.yml:658) is listTasksV1 (2024-11:866) on GET /1/tasks.
has d24 "GET /1/tasks (getTasks -> listTasksV1)"
has d24 "           operationId getTasks is now listTasksV1 [operation-id-changed] (old #/paths/~11~1tasks/get/operationId:658, new #/paths/~11~1tasks/get/operationId:866)"
has d24 "GET /1/runs (getRuns -> listRuns)"
has d24 "GET /1/authentications (getAuthentications -> listAuthentications)"
# GET /1/sources/{sourceID}/discover (ingestion.yml:586) is gone: breaking.
has d24 "GET /1/sources/{sourceID}/discover (getDockerSourceStreams, removed)"
has d24 "  BREAKING operation getDockerSourceStreams removed [operation-removed] (old #/paths/~11~1sources~1{sourceID}~1discover/get:586, new -)"
# The transformations (2024-11:1373) are new.
has d24 "           operation listTransformations added [operation-added] (old -, new #/paths/~11~1transformations/get:1373)"
grep -q "^POST /1/transformations (createTransformation, added)$" "$work/d24.txt" ||
    fail "d24: createTransformation not added"
# 33 operations -> 58: 26 added, getDockerSourceStreams removed.
grep -q "; operations: 26 added, 1 removed, " "$work/d24.txt" || fail "d24: summary"
grep -qF '### `GET /1/tasks` (getTasks -> listTasksV1)' "$work/d24.md" || fail "d24: Markdown heading"

diff_pair d25 "$r2024" "$r2025"
# 58 -> 61 operations, none removed; GET /chunkedPush is new.
grep -q "; operations: 3 added, 0 removed, 0 renamed, " "$work/d25.txt" || fail "d25: summary"
has d25 "GET /chunkedPush (chunkedPush, added)"
# RunOutcome lost "processing" (2024-11:4028): a response value removed, not breaking.
has d25 "           response 200 body property runs[].outcome: enum value \"processing\" removed [response-enum-value-removed] (old #/components/schemas/RunOutcome/enum/2:4028, new -)"

diff_pair d23 "$r2023" "$default"
# 35 -> 33 operations: the four /1{path} helpers removed, discover's two added.
grep -q "; operations: 2 added, 4 removed, 0 renamed, " "$work/d23.txt" || fail "d23: summary"
has d23 "DELETE /1{path} (del, removed)"
has d23 "GET /1/sources/{sourceID}/discover (getDockerSourceStreams, added)"

# A revision against itself: nothing, and --fail-on-breaking exits 0.
$run "$bin" spec diff --fail-on-breaking "$r2025" "$r2025" >"$work/same.txt" || fail "same: exit $?"
grep -qx "0 changes, 0 breaking; operations: 0 added, 0 removed, 0 renamed, 0 changed (.*)" \
    "$work/same.txt" || fail "same: $(cat "$work/same.txt")"
# --json and --markdown together: usage, exit 2.
$run "$bin" spec diff --json --markdown "$r2024" "$r2025" >/dev/null 2>"$work/both.err"
[ $? -eq 2 ] || fail "--json --markdown: not exit 2"
rm -rf "$work"
echo "ok: spec diff over 4 revisions"
