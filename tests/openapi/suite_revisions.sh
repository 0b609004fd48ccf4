#!/bin/sh
# The shipped suite on the given revisions of the spec (issue 13, point 6):
# for each revision R in ../shared/spec/revisions (relative to the source
# root; skip 77 when absent):
#   `schemas generate --spec R --out DIR` and `schemas lint --spec R` exit 0;
#   `serve --spec R --port 0` runs as a process of its own, its startup line
#   says how many operations it serves, modelled and generated (the counts
#   of --list-operations), and it stops with 0 on SIGTERM (by its PID);
#   for the revisions of November 2024 on (by the date in the file name,
#   ingestion-YYYY-MM-DD-*.yml; the suite is not written for older ones):
#   `run --spec R
#   cases/` against the embedded mock and `run --spec R --base-url
#   --include-tag mock` against that server (an ingestcheck mock: the cases
#   tagged mock hold there too) exit 1, and results.json shows that every failing step is
#   one whose operation R removed (named by case and step, not run, R has
#   no operation at its method and path, the committed spec has), that at
#   least one such step exists (so this cannot pass vacuously), that the
#   only other steps not passed come after it in its case, and that every
#   other case passed.
# Prints one line per revision: lint findings, operations, suite result.
# Usage: suite_revisions.sh INGESTCHECK SOURCE_DIR WORK_DIR
set -u
. "$(dirname "$0")/../common/valgrind.sh"
bin="$1"
src="$2"
work="$3"
revs="$src/../shared/spec/revisions"
pid=""

fail() {
    echo "FAIL: $*"
    exit 1
}

[ -d "$revs" ] || { echo "SKIP: no $revs"; exit 77; }
mkdir -p "$work" && work=$(mktemp -d "$work/run.XXXXXX") || fail "cannot create a directory in $work"
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null' EXIT
# One pair of credentials for the server and the runner (never printed).
export INGESTCHECK_MOCK_APP_ID=SUITEREV ALGOLIA_APPLICATION_ID=SUITEREV
export INGESTCHECK_MOCK_API_KEY="key-$$" ALGOLIA_API_KEY="key-$$"

# Operations of the committed spec, as "METHOD /path" lines.
ops() { sed -n 's/^\(modelled\|generated\) *\([A-Z]*\) *\([^ ]*\) .*/\2 \3/p' "$1"; }
"$bin" serve --list-operations >"$work/default-ops.txt" || fail "serve --list-operations exit $?"
ops "$work/default-ops.txt" >"$work/default-ops"
[ -s "$work/default-ops" ] || fail "serve --list-operations listed nothing"

# check_results RESULTS_JSON R_OPS: the analysis described above; prints
# "P passed, F failed (case: step (operationId) ...)".
check_results() {
    python3 - "$1" "$2" "$work/default-ops" <<'PY'
import json, re, sys
res = json.load(open(sys.argv[1]))
r_ops = set(open(sys.argv[2]).read().split("\n"))
default_ops = set(open(sys.argv[3]).read().split("\n"))
removed = re.compile(r"the loaded spec has no operation (\w+) \((\w+) (\S+)\), by id or by method and path$")
failed = []
for case in res["cases"]:
    if case["outcome"] == "passed":
        continue
    assert case["outcome"] == "failed", (case["name"], case["outcome"], case.get("message"))
    bad = [s for s in case["steps"] if s["outcome"] != "passed"]
    first = bad[0]
    assert first["outcome"] == "failed", (case["name"], first["name"], first["outcome"])
    checks = [c for c in first["checks"] if c["outcome"] != "pass"]
    assert len(checks) == 1 and checks[0]["name"] == "contract.operation", (case["name"], first["name"], checks)
    m = removed.search(checks[0]["message"])
    assert m, (case["name"], first["name"], checks[0]["message"])
    op, method_path = m.group(1), m.group(2) + " " + m.group(3)
    assert first["operation"] == op and first["attempts"] == 0, (case["name"], first)
    assert method_path not in r_ops, (method_path, "is served for this revision")
    assert method_path in default_ops, (method_path, "is not an operation of the committed spec")
    assert case["message"].startswith("step '%s'" % first["name"]), (case["name"], case["message"])
    for s in bad[1:]:
        assert s["outcome"] == "skipped", (case["name"], s["name"], s["outcome"])
    failed.append("%s: %s (%s)" % (case["name"], first["name"], op))
s = res["summary"]
assert s["errors"] == 0 and s["skipped"] == 0, s
assert s["failed"] == len(failed) >= 1, (s, failed)
assert s["passed"] + s["failed"] == s["cases"], s
print("%d passed, %d failed (%s)" % (s["passed"], s["failed"], "; ".join(failed)))
PY
}

n=0
for spec in "$revs"/*.yml; do
    [ -f "$spec" ] || continue
    n=$((n + 1))
    name=$(basename "$spec" .yml)
    $run "$bin" schemas generate -q --spec "$spec" --out "$work/$name" || fail "generate $name exit $?"
    [ -f "$work/$name/operations.json" ] || fail "generate $name wrote no operations.json"
    $run "$bin" schemas lint --spec "$spec" >"$work/$name-lint.txt" || fail "lint $name exit $?"
    findings=$(sed -n 's/^\([0-9]*\) defects in .*/\1/p' "$work/$name-lint.txt")
    [ -n "$findings" ] || fail "lint $name: no summary line"

    # The server, a process of its own; its listening line gives the port.
    "$bin" serve --list-operations --spec "$spec" >"$work/$name-ops.txt" || fail "list $name exit $?"
    ops "$work/$name-ops.txt" >"$work/$name-ops"
    total=$(wc -l <"$work/$name-ops")
    modelled=$(grep -c '^modelled ' "$work/$name-ops.txt")
    generated=$(grep -c '^generated ' "$work/$name-ops.txt")
    $run "$bin" serve --no-color --spec "$spec" --port 0 >"$work/$name-serve.txt" 2>&1 &
    pid=$!
    port=""
    i=0
    while [ -z "$port" ] && [ $i -lt 300 ]; do
        kill -0 "$pid" 2>/dev/null || { cat "$work/$name-serve.txt"; fail "serve $name exited"; }
        port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$work/$name-serve.txt")
        [ -n "$port" ] || { sleep 0.1; i=$((i + 1)); }
    done
    [ -n "$port" ] || { cat "$work/$name-serve.txt"; fail "serve $name: no listening line in 30 s"; }
    line="serving $total operations: $modelled modelled, $generated generated"
    grep -qx "$line" "$work/$name-serve.txt" ||
        { cat "$work/$name-serve.txt"; fail "serve $name: no startup line \"$line\""; }
    [ "$modelled" -ge 1 ] && [ $((modelled + generated)) -eq "$total" ] || fail "serve $name: $line"

    suite="not run (older than 2024-11-12)"
    date=$(echo "$name" | sed -n 's/^ingestion-\([0-9]\{4\}-[0-9]\{2\}-[0-9]\{2\}\)-.*/\1/p')
    if [ -n "$date" ] && expr "$date" \>= 2024-11-12 >/dev/null; then
        $run "$bin" run -q --no-color --spec "$spec" --reports "$work/$name-embedded" "$src/cases" \
            >"$work/$name-embedded.txt" 2>&1
        rc=$?
        [ "$rc" = 1 ] || { cat "$work/$name-embedded.txt"; fail "run --spec $name (embedded mock) exit $rc, want 1"; }
        embedded=$(check_results "$work/$name-embedded/results.json" "$work/$name-ops") ||
            { echo "$embedded"; fail "run --spec $name (embedded mock): a failure other than a removed operation"; }
        $run "$bin" run -q --no-color --spec "$spec" --base-url "http://127.0.0.1:$port" --include-tag mock \
            --reports "$work/$name-served" "$src/cases" >"$work/$name-served.txt" 2>&1
        rc=$?
        [ "$rc" = 1 ] || { cat "$work/$name-served.txt"; fail "run --spec $name --base-url exit $rc, want 1"; }
        suite=$(check_results "$work/$name-served/results.json" "$work/$name-ops") ||
            { echo "$suite"; fail "run --spec $name --base-url: a failure other than a removed operation"; }
        [ "$suite" = "$embedded" ] || fail "$name: embedded ($embedded) and served ($suite) differ"
    fi
    kill "$pid"
    wait "$pid"
    rc=$?
    pid=""
    [ "$rc" = 0 ] || { cat "$work/$name-serve.txt"; fail "serve $name exit $rc on SIGTERM"; }
    echo "ok $name: $findings lint findings; $line; suite: $suite"
done
[ "$n" -ge 1 ] || fail "no revision found in $revs"
rm -rf "$work"
echo "ok: $n revisions"
