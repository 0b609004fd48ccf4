#!/bin/sh
# `schemas generate | check | lint | examples --spec R` on every revision of
# the Ingestion spec in ../shared/spec/revisions (relative to the source
# root; skip 77 when absent) and on tests/data/spec/openapi-3.1.yml:
#   generate exits 0; check against the generated dir exits 0; the
#   generated operations.json compiles (`validate --schema` exits 0 or 1);
#   lint exits 0 and prints every degraded schema of defects.json
#   (unselected-union, unmerged-allof) with its location; examples exits 0
#   (every example valid or listed as a defect of R).
# Then unusable input exits 2 with one line: not OpenAPI, a $ref to another
# file or a URL, a $ref cycle, a 50 MB document.
# Usage: revisions.sh INGESTCHECK SOURCE_DIR WORK_DIR (a fresh run.XXXXXX in it per run)
set -u
. "$(dirname "$0")/../common/valgrind.sh"
bin="$1"
src="$2"
work="$3"
revs="$src/../shared/spec/revisions"

fail() {
    echo "FAIL: $*"
    exit 1
}

[ -d "$revs" ] || { echo "SKIP: no $revs"; exit 77; }
# A directory of its own per run (meson test --repeat runs copies at once);
# kept when a check fails.
mkdir -p "$work" && work=$(mktemp -d "$work/run.XXXXXX") || fail "cannot create a directory in $work"
echo null >"$work/null.json"

n=0
for spec in "$revs"/*.yml "$src/tests/data/spec/openapi-3.1.yml"; do
    [ -f "$spec" ] || continue
    n=$((n + 1))
    out="$work/$(basename "$spec" .yml)"
    $run "$bin" schemas generate -q --spec "$spec" --out "$out" || fail "generate $spec exit $?"
    $run "$bin" schemas check -q --spec "$spec" --schemas "$out" || fail "check $spec exit $?"
    # operations.json refers to every component it needs: it compiles only
    # when they all do (each component alone: tests/openapi spec-generate).
    "$bin" validate -q --schema "$out/operations.json" "$work/null.json" >/dev/null 2>"$work/err"
    [ $? -le 1 ] || fail "$out/operations.json does not compile: $(cat "$work/err")"
    $run "$bin" schemas lint --spec "$spec" >"$work/lint.txt" || fail "lint $spec exit $?"
    grep -q "defects in " "$work/lint.txt" || fail "lint $spec: no summary"
    # Each degraded schema of defects.json is a finding of lint, with its location.
    tr -d ' \n' <"$out/defects.json" | grep -o '"kind":"un\(selected-union\|merged-allof\)","location":"[^"]*"' |
        sed 's/.*"kind":"\([^"]*\)","location":"\([^"]*\)"/\1: \2/' >"$work/degraded.txt"
    while IFS= read -r d; do
        grep -qF "$d" "$work/lint.txt" || fail "lint $spec does not report $d"
    done <"$work/degraded.txt"
    $run "$bin" schemas examples -q --spec "$spec" >"$work/ex.txt" ||
        fail "examples $spec exit $?: $(cat "$work/ex.txt")"
    grep -q "NOT listed" "$work/ex.txt" && fail "examples $spec: unlisted invalid example"
    echo "ok $spec: $(tail -1 "$work/lint.txt"), $(wc -l <"$work/degraded.txt") degraded"
done
[ "$n" -ge 2 ] || fail "no revision found in $revs"
grep -q "unselected-union" "$work/openapi-3.1/defects.json" || fail "3.1 slice: no degraded union"

# Unusable input: exit 2, one line on stderr, nothing written.
refuse() {
    name="$1"
    want="$2"
    rm -rf "$work/out-$name"
    $run "$bin" schemas generate --spec "$work/$name.yml" --out "$work/out-$name" \
        >/dev/null 2>"$work/err"
    code=$?
    [ "$code" -eq 2 ] || fail "$name: exit $code, want 2"
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "$name: not one line: $(cat "$work/err")"
    grep -q "$want" "$work/err" || fail "$name: \"$(cat "$work/err")\" lacks \"$want\""
    [ ! -e "$work/out-$name" ] || fail "$name: wrote $work/out-$name"
}
head='openapi: 3.0.2
info: {title: t, version: "1"}
paths: {}
components:
  schemas:'
printf 'swagger: "2.0"\ninfo: {title: t, version: "1"}\npaths: {}\n' >"$work/swagger.yml"
refuse swagger "OpenAPI 3"
printf '%s\n    A: {properties: {b: {$ref: "other.yml#/components/schemas/B"}}}\n' "$head" \
    >"$work/file-ref.yml"
refuse file-ref "file-ref.yml:6:"
printf '%s\n    A: {properties: {b: {$ref: "https://x.example/s.json"}}}\n' "$head" >"$work/url-ref.yml"
refuse url-ref "url-ref.yml:6:"
printf '%s\n    A: {$ref: "#/components/schemas/B"}\n    B: {$ref: "#/components/schemas/A"}\n' \
    "$head" >"$work/cycle.yml"
refuse cycle "cycle"
{
    printf '%s\n    S: {type: string, description: "' "$head"
    head -c 52428800 /dev/zero | tr '\0' x
    printf '"}\n'
} >"$work/big.yml"
[ "$(wc -c <"$work/big.yml")" -gt 50000000 ] || fail "big.yml is too small"
refuse big "larger than"
rm -rf "$work"
echo "ok: $n revisions"
