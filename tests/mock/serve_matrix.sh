#!/bin/sh
# The conformance matrix of the mock (issue 14, point 3): the whole shipped
# suite, `run cases/ --base-url URL -j 8`, against `serve` as a
# process of its own (--port 0, its listening line read, killed by PID) in
# each of these conforming variants:
#   latency    --latency 150:50 (150 ms per answer, plus or minus 50)
#   instant    --run-stage-ms 1
#   slow       --run-stage-ms 3000
#   failure    --run-outcome failure
#   events     --run-events 1:9 (the events case assumes a run that ended logged one;
#              runs of 0 events are unit-tested in tests/mock/test_mock_vary.c)
#   offset     --clock-offset -5h
#   seeded     --seed 5 (a logical clock from 2024-04-17)
#   preloaded  --preload authentications=3,sources=12,destinations=12,tasks=150,runs=40
# Every variant must pass: exit 0 and, in results.json, every case passed
# but those tagged mock, skipped as mock-only (at least one of each). Prints one line per variant (cases, time, and for a
# failure each failing case with its first failing step and message) and
# exits 1 when any variant failed.
# Usage: serve_matrix.sh INGESTCHECK SOURCE_DIR WORK_DIR [--pending] [VARIANT...]
# --pending exits 77 at once: the meson test while the suite's cases are
# not yet written for the matrix (meson option serve_matrix=false; see
# tests/mock/meson.build).
set -u
bin="$1"
src="$2"
work="$3"
shift 3
pid=""

fail() {
    echo "FAIL: $*"
    exit 1
}

if [ "${1:-}" = --pending ]; then
    echo "SKIP: the matrix is off until the cases assert invariants (meson -Dserve_matrix=true)"
    exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
mkdir -p "$work" && work=$(mktemp -d "$work/run.XXXXXX") || fail "cannot create a directory in $work"
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null' EXIT
export INGESTCHECK_MOCK_APP_ID=MATRIX ALGOLIA_APPLICATION_ID=MATRIX
export INGESTCHECK_MOCK_API_KEY="key-$$" ALGOLIA_API_KEY="key-$$"

# The cases tagged mock assert the default mock's own schedule (stage
# timing, event counts): a variant is another conforming server, so they
# are skipped as against any --base-url, and must be reported as such.
include=""

variants="latency instant slow failure events offset seeded preloaded"
[ $# -gt 0 ] && variants="$*"

options() {
    case "$1" in
    latency) echo "--latency 150:50" ;;
    instant) echo "--run-stage-ms 1" ;;
    slow) echo "--run-stage-ms 3000" ;;
    failure) echo "--run-outcome failure" ;;
    events) echo "--run-events 1:9" ;;
    offset) echo "--clock-offset -5h" ;;
    seeded) echo "--seed 5" ;;
    preloaded) echo "--preload authentications=3,sources=12,destinations=12,tasks=150,runs=40" ;;
    *) return 1 ;;
    esac
}

# summarize RESULTS_JSON: "P/N passed" and, per case not passed, its first
# step not passed and that step's first failing check.
summarize() {
    python3 - "$1" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))
s = res["summary"]
print("%d/%d passed, %d failed, %d errors, %d skipped (mock-only)"
      % (s["passed"], s["cases"], s["failed"], s.get("errors", 0), s.get("skipped", 0)))
for case in res["cases"]:
    if case["outcome"] == "passed":
        continue
    step = next((x for x in case.get("steps", []) if x["outcome"] not in ("passed", "skipped")), None)
    where = ""
    if step:
        check = next((c for c in step.get("checks", []) if c.get("outcome") != "pass"), None)
        where = " at '%s': %s" % (step["name"], (check or {}).get("message", step.get("message", "")))
    print("  %s %s%s" % (case["outcome"], case["name"], where or (": " + case.get("message", ""))))
# Passed, or skipped as mock-only (and then tagged mock); nothing else.
mock_only = [c for c in res["cases"] if c["outcome"] == "skipped"
             and c.get("message") == "mock-only" and "mock" in c.get("tags", [])]
ok = (s["passed"] + len(mock_only) == s["cases"] and s["passed"] > 0 and len(mock_only) > 0)
sys.exit(0 if ok else 1)
PY
}

bad=0
for v in $variants; do
    opts=$(options "$v") || fail "unknown variant $v"
    # shellcheck disable=SC2086
    "$bin" serve --no-color --port 0 $opts >"$work/$v-serve.txt" 2>&1 &
    pid=$!
    port=""
    i=0
    while [ -z "$port" ] && [ $i -lt 300 ]; do
        kill -0 "$pid" 2>/dev/null || { cat "$work/$v-serve.txt"; fail "serve $opts exited"; }
        port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$work/$v-serve.txt")
        [ -n "$port" ] || { sleep 0.1; i=$((i + 1)); }
    done
    [ -n "$port" ] || { cat "$work/$v-serve.txt"; fail "serve $opts: no listening line in 30 s"; }
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$bin" run -q --no-color -j 8 $include --base-url "http://127.0.0.1:$port" \
        --reports "$work/$v" "$src/cases" >"$work/$v-run.txt" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    kill "$pid"
    wait "$pid"
    srv_rc=$?
    pid=""
    [ "$srv_rc" = 0 ] || { cat "$work/$v-serve.txt"; fail "serve $opts exit $srv_rc on SIGTERM"; }
    if [ ! -f "$work/$v/results.json" ]; then
        cat "$work/$v-run.txt"
        fail "$v ($opts): run exit $rc without results.json"
    fi
    summary=$(summarize "$work/$v/results.json")
    ok=$?
    if [ "$rc" = 0 ] && [ "$ok" = 0 ]; then
        echo "ok $v ($opts): $summary in ${secs} s"
    else
        echo "FAIL $v ($opts): run exit $rc, $summary in ${secs} s"
        bad=$((bad + 1))
    fi
done
[ "$bad" = 0 ] || fail "$bad variants failed (reports kept in $work)"
rm -rf "$work"
echo "ok: every variant passed"
