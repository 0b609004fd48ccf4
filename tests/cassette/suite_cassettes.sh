#!/bin/sh
# The shipped cassettes of the Ingestion suite (cases/cassettes/), end to
# end through `ingestcheck run`:
#   replay       replay offline (--replay): exit 0, every check passes
#   rerecord     re-record with the same seed and run id: byte-identical files
#   closed-port  replay with --base-url on a closed port: still passes, and
#                (where strace works) not one socket() or connect() call
#   unshare      replay inside `unshare -n` (no interfaces); 77 when not permitted
#   secrets      record with a random API key (with characters that need
#                encoding, also sent in a path and a query), app ID and
#                credentials, replay with another random key, export HAR and
#                lint: none of them appears in any file written (cassettes,
#                reports, logs), raw, percent-encoded (both cases), JSON- or
#                XML-escaped or base64
#   miss         replay-only miss: a failed step naming the closest recording
#   matching     the cassette: options of a case file (ignore_query,
#                ignore_body, ordered) decide a replay with other values
#   spec-change  a cassette recorded against another spec: a warning on
#                replay and lint (and in results.json); today's schemas decide
#   once         --record-mode once: records a missing cassette, replays an
#                existing one with no network
#   new-episodes --record-mode new_episodes: records only the new interactions
#   newer-format a cassette of a newer format version: exit 2, file:line: reason
#   corrupt      a truncated cassette: exit 2 with file:line: reason
#   lint         `cassette lint` of the shipped cassettes passes; export --har works
#   durations    an unseeded recording holds each case's duration (the shipped,
#                seeded ones none); --shard balances by them, the shards
#                replay and merge into one passing run
#   partial-rerecord  --record-mode all of some cases (--case, --shard) keeps
#                the other cases' recordings byte for byte (the whole suite
#                still replays), twice gives the same file, and a --run-id
#                other than the kept recordings' is refused (exit 2)
#   subset-replay  replaying some of a file's cases (--case): an identical
#                request of another case recorded earlier is not taken
#   seeded-uuid  --mock-seed without cassettes: {{uuid}} values derive from the
#                seed and the case (same at -j 1 and -j 4, others for another seed)
# Usage: suite_cassettes.sh INGESTCHECK SOURCE_DIR TEST
set -u
. "$(dirname "$0")/../common/valgrind.sh"
bin="$1"
src="$2"
what="$3"
# The recording parameters of cases/cassettes (README: "Cassettes").
SEED=42
RUN_ID=ic-0000000042
unset SOURCE_DATE_EPOCH
unset ALGOLIA_API_KEY ALGOLIA_APPLICATION_ID

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
cd "$src" || exit 1

fail() {
    echo "FAIL: $*"
    exit 1
}

ic() {
    $run "$bin" "$@"
}

case "$what" in
replay)
    ic run --no-color --quiet --replay --reports "$work/r" cases >"$work/out" 2>&1
    rc=$?
    tail -n 3 "$work/out"
    [ $rc -eq 0 ] || fail "replay exited $rc"
    grep -q ' 0 failed' "$work/out" || fail "some check failed"
    grep -Eq '"failed":[[:space:]]*0[,}[:space:]]' "$work/r/results.json" ||
        fail "results.json does not say 0 failed"
    # -j 8 gives the same verdict (one worker at a time per cassette).
    ic run --no-color --quiet --replay -j 8 --reports "$work/r8" cases >"$work/out8" 2>&1 ||
        fail "replay -j 8 failed: $(tail -n 5 "$work/out8")"
    ;;
rerecord)
    ic run --no-color --quiet --mock-seed $SEED --run-id $RUN_ID --record-mode all \
        --cassettes "$work/c" --reports "$work/r" cases >"$work/out" 2>&1 ||
        fail "recording failed: $(tail -n 5 "$work/out")"
    for f in cases/cassettes/*.yaml; do
        cmp "$f" "$work/c/$(basename "$f")" || fail "$f differs from a re-recording (diff -u $f ...)"
    done
    n1=$(ls cases/cassettes/*.yaml | wc -l)
    n2=$(ls "$work/c"/*.yaml | wc -l)
    [ "$n1" -eq "$n2" ] || fail "$n2 cassettes recorded, $n1 shipped"
    ;;
closed-port)
    # Port 9 (discard) on loopback: nothing listens; nothing may try.
    ic run --no-color --quiet --replay --base-url http://127.0.0.1:9 --app-id X1 --api-key k1 \
        --reports "$work/r" cases >"$work/out" 2>&1 || fail "replay to a closed port: $(tail -n 5 "$work/out")"
    # Where strace works: not one socket is opened (a live run opens some).
    if [ -z "$run" ] && command -v strace >/dev/null 2>&1 &&
        strace -f -qq -e trace=socket -o "$work/strace" true 2>/dev/null; then
        # LeakSanitizer cannot run under ptrace (ASan builds).
        ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
            strace -f -qq -e trace=socket,connect -o "$work/strace" "$bin" run --no-color \
            --quiet --replay -j 4 --base-url http://127.0.0.1:9 --app-id X1 --api-key k1 \
            --reports "$work/r2" cases >"$work/out" 2>&1 ||
            fail "replay under strace failed: $(tail -n 5 "$work/out")"
        if grep -E 'socket\(|connect\(' "$work/strace"; then
            fail "the replay opened a socket"
        fi
    fi
    ;;
unshare)
    command -v unshare >/dev/null 2>&1 || { echo "no unshare: skipping"; exit 77; }
    ns=""
    if unshare -n true 2>/dev/null; then
        ns="unshare -n"
    elif unshare -rn true 2>/dev/null; then
        ns="unshare -rn"
    else
        echo "unshare -n not permitted: skipping"
        exit 77
    fi
    $ns $run "$bin" run --no-color --quiet --replay --reports "$work/r" cases >"$work/out" 2>&1 ||
        fail "replay in a network namespace: $(tail -n 5 "$work/out")"
    ;;
secrets)
    rnd() { od -An -N12 -tx1 /dev/urandom | tr -d ' \n'; }
    # The API key needs encoding in a URL, JSON and XML; the case file also
    # sends it in a path and a query ({{env.IC_SECRET_KEY}}).
    KEY="k$(rnd)+/=\"q\\x&y<z>"
    APP="A$(rnd | tr 'a-f' 'A-F' | cut -c1-10)"
    PW="pw$(rnd)"
    AK="ak$(rnd)"
    CS="cs$(rnd)"
    TOK="tk$(rnd)"
    export IC_SECRET_PW="$PW" IC_SECRET_AK="$AK" IC_SECRET_CS="$CS" IC_SECRET_TOK="$TOK"
    export IC_SECRET_KEY="$KEY"
    ic run --no-color --record-mode all --app-id "$APP" --api-key "$KEY" --redact token \
        --cassettes "$work/c" --reports "$work/r" \
        "$src/tests/data/cassette/secrets.yaml" cases/smoke.yaml cases/credentials.yaml \
        >"$work/log" 2>&1
    rc=$?
    [ $rc -le 1 ] || fail "recording exited $rc: $(tail -n 5 "$work/log")"
    ls "$work/c"/*.yaml >/dev/null 2>&1 || fail "no cassette written"
    # Each secret is looked for raw, percent-encoded (upper- and lower-case
    # hex), JSON-escaped (also as HTML-safe encoders write it), XML-escaped
    # and base64, in every file written.
    forms() {
        printf '%s\n' "$1"
        pct=$(printf %s "$1" | od -An -v -tx1 | tr -s ' \n' '\n\n' | sed '/^$/d' |
            while read -r h; do
                case $h in
                    2d | 2e | 3[0-9] | 4[1-9a-f] | 5[0-9a] | 5f | 6[1-9a-f] | 7[0-9a] | 7e)
                        printf "\\$(printf %o "0x$h")" ;;
                    *) printf '%%%s' "$h" ;;
                esac
            done)
        printf '%s\n' "$pct" | sed 's/%\(..\)/%\U\1/g'
        printf '%s\n' "$pct"
        printf %s "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'
        echo
        printf %s "$1" | sed 's/\\/\\\\/g; s/"/\\"/g; s|/|\\/|g; s/</\\u003c/g; s/>/\\u003e/g; s/&/\\u0026/g'
        echo
        printf %s "$1" | sed 's/&/\&amp;/g; s/"/\&quot;/g; s/</\&lt;/g; s/>/\&gt;/g'
        echo
        printf %s "$1" | base64 | tr -d '\n' | cut -c1-$(($(printf %s "$1" | wc -c) * 8 / 6))
        echo
    }
    scan() { # scan PHASE SECRET...
        phase=$1
        shift
        for s in "$@"; do
            forms "$s" | sort -u >"$work/forms"
            while IFS= read -r f; do
                [ -n "$f" ] || continue
                if grep -rlF -- "$f" "$work" | grep -v "^$work/forms$"; then
                    grep -rnoF -- "$f" "$work" | grep -v "^$work/forms:" | head -3
                    echo "secret: $s, form: $f"
                    fail "a secret appears in the files above ($phase)"
                fi
            done <"$work/forms"
        done
    }
    scan "recording" "$KEY" "$APP" "$PW" "$AK" "$CS" "$TOK"
    # Replay with other credentials still matches (placeholders), and its
    # reports mask what the recording redacted (token, without --redact).
    KEY2="k$(rnd)%2F\"<&>"
    export IC_SECRET_KEY="$KEY2"
    ic run --no-color --replay --app-id OTHERAPP01 --api-key "$KEY2" \
        --cassettes "$work/c" --reports "$work/r2" \
        "$src/tests/data/cassette/secrets.yaml" cases/smoke.yaml cases/credentials.yaml \
        >"$work/out2" 2>&1 ||
        fail "replay with other credentials: $(tail -n 8 "$work/out2")"
    ic cassette export --har "$work/export.har" "$work/c"/*.yaml >"$work/export.log" 2>&1 ||
        fail "HAR export: $(tail -n 3 "$work/export.log")"
    ic cassette lint "$work/c"/*.yaml >"$work/lint.log" 2>&1 ||
        fail "cassette lint: $(tail -n 3 "$work/lint.log")"
    n=$(find "$work" -type f | wc -l)
    scan "record, replay, HAR export or lint" "$KEY" "$KEY2" OTHERAPP01 "$APP" "$PW" "$AK" "$CS" \
        "$TOK"
    echo "$n files written by record, replay, HAR export and lint: no secret in any form in any"
    ;;
miss)
    # Another run id changes the names in request bodies: no recording
    # matches, and the failure names the closest one and the field.
    ic run --no-color --replay --run-id ic-ffffffffff --case 'smoke*' --reports "$work/r" cases \
        >"$work/out" 2>&1
    rc=$?
    cat "$work/out"
    [ $rc -eq 1 ] || fail "a replay miss exited $rc, expected 1"
    grep -q 'no recording matches POST /1/authentications; closest: interaction 0' "$work/out" ||
        fail "the miss does not name the closest recording"
    grep -q 'body at "/name": recorded "ic-0000000042-smoke-auth", got "ic-ffffffffff-smoke-auth"' \
        "$work/out" || fail "the miss does not name the differing field"
    grep -q '^      actual:   no recording matches$' "$work/out" ||
        fail "the miss is not reported as 'no recording matches'"
    ;;
matching)
    # tests/data/cassette/matching.yaml: record with one set of values,
    # replay with another; the cassette: options decide.
    m="$src/tests/data/cassette/matching.yaml"
    rec() {
        IC_MATCH_DATE=2024-01-01T00:00:00Z IC_MATCH_FIRST=tasks IC_MATCH_SECOND=destinations \
            ic run --no-color --quiet "$@"
    }
    other() {
        IC_MATCH_DATE=2024-02-02T00:00:00Z IC_MATCH_FIRST=destinations IC_MATCH_SECOND=tasks \
            ic run --no-color "$@"
    }
    rec --mock-seed $SEED --record-mode all --cassettes "$work/c" --reports "$work/r" "$m" \
        >"$work/out" 2>&1 || fail "recording failed: $(tail -n 5 "$work/out")"
    rec --replay --cassettes "$work/c" --reports "$work/r" "$m" >"$work/out" 2>&1 ||
        fail "replay with the recorded values failed: $(tail -n 8 "$work/out")"
    other --replay --cassettes "$work/c" --reports "$work/r" "$m" >"$work/out" 2>&1
    rc=$?
    cat "$work/out"
    [ $rc -eq 1 ] || fail "replay with other values exited $rc, expected 1 (ordered fails)"
    grep -q '3 passed, 1 failed' "$work/out" || fail "expected 3 passed, 1 failed"
    grep -q 'recorded order.*in recorded order, path: recorded /1/tasks, got /1/destinations' \
        "$work/out" || fail "the ordered miss does not say so"
    # Ordered counts the case's own recordings: a replay of that case alone
    # (the other cases' recordings unused) passes with the recorded order.
    rec --replay --case '*recorded order' --cassettes "$work/c" --reports "$work/r" "$m" \
        >"$work/out" 2>&1 || fail "ordered replay of one case: $(tail -n 8 "$work/out")"
    # The same cases without their cassette: blocks miss on the ignored values.
    mkdir -p "$work/plain"
    grep -v 'cassette:' "$m" >"$work/plain/matching.yaml"
    other --replay --cassettes "$work/c" --reports "$work/r" --case '*ignore*' \
        "$work/plain/matching.yaml" >"$work/out" 2>&1
    rc=$?
    cat "$work/out"
    [ $rc -eq 1 ] || fail "replay without the ignore options exited $rc, expected 1"
    grep -q '0 passed, 2 failed' "$work/out" || fail "expected both ignore cases to fail"
    grep -q 'query parameter "startDate": recorded "2024-01-01T00:00:00Z"' "$work/out" ||
        fail "the query miss does not name startDate"
    grep -q 'body at "/name"' "$work/out" || fail "the body miss does not name /name"
    ;;
spec-change)
    # A cassette whose spec SHA-256 was hand-edited: replay and lint say so
    # (stderr and results.json) and still pass against today's schemas.
    mkdir -p "$work/c"
    sed 's/^  spec_sha256: .*/  spec_sha256: '"'"'0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'"'"'/' \
        cases/cassettes/smoke.yaml >"$work/c/smoke.yaml"
    cmp -s cases/cassettes/smoke.yaml "$work/c/smoke.yaml" && fail "the hash was not edited"
    ic run --no-color --quiet --replay --cassettes "$work/c" --reports "$work/r" cases/smoke.yaml \
        >"$work/out" 2>"$work/err" || fail "replay failed: $(tail -n 5 "$work/out" "$work/err")"
    cat "$work/err"
    grep -q "warning: $work/c/smoke.yaml: recorded against spec sha256 0123456789ab\.\.\., today's is 49db3fa29c5a\.\.\." \
        "$work/err" || fail "no spec warning on replay"
    grep -Eq '"spec_changed":[[:space:]]*true' "$work/r/results.json" || fail "results.json: no spec_changed"
    grep -A1 '"warnings"' "$work/r/results.json" | grep -q 'recorded against spec sha256 0123456789ab' ||
        fail "results.json: no warning"
    ic cassette lint "$work/c/smoke.yaml" >"$work/out" 2>"$work/err" || fail "lint failed"
    grep -q "warning: $work/c/smoke.yaml: recorded against spec sha256 0123456789ab" "$work/err" ||
        fail "no spec warning from lint"
    # Recording more into it (new_episodes) keeps the old hash: its older
    # recordings are still from the other spec. Re-recording all of it
    # (mode all) moves it to today's.
    cp "$work/c/smoke.yaml" "$work/c/before.yaml"
    ic run --no-color --quiet --record-mode new_episodes --mock-seed $SEED --run-id $RUN_ID \
        --cassettes "$work/c" --reports "$work/r" cases/smoke.yaml >"$work/out" 2>&1 ||
        fail "new_episodes over another spec's cassette: $(tail -n 5 "$work/out")"
    grep -q "^  spec_sha256: '0123456789abcdef" "$work/c/smoke.yaml" ||
        fail "new_episodes replaced the recordings' spec hash: $(grep spec_sha256 "$work/c/smoke.yaml")"
    ic run --no-color --quiet --record-mode all --mock-seed $SEED --run-id $RUN_ID \
        --cassettes "$work/c" --reports "$work/r" cases/smoke.yaml >"$work/out" 2>&1 ||
        fail "re-recording another spec's cassette: $(tail -n 5 "$work/out")"
    [ "$(grep '^  spec_sha256:' "$work/c/smoke.yaml")" = "$(grep '^  spec_sha256:' cases/cassettes/smoke.yaml)" ] ||
        fail "re-recording all of it does not move it to today's hash"
    # The shipped cassettes carry today's hash: no warning.
    ic run --no-color --quiet --replay --reports "$work/r" cases/smoke.yaml >"$work/out" 2>"$work/err" ||
        fail "replay of the shipped cassette failed"
    grep -q warning "$work/err" && fail "a warning for an unchanged spec: $(cat "$work/err")"
    grep -Eq '"spec_changed":[[:space:]]*true' "$work/r/results.json" && fail "spec_changed for an unchanged spec"
    # Today's schemas decide: a spec that now requires a field the recorded
    # response lacks fails the replay and the lint, offline.
    cp -r "$src/schemas" "$work/s"
    sed -i 's/"required":  \["authenticationID", "name", "createdAt"\]/"required": ["authenticationID", "name", "createdAt", "scope"]/' \
        "$work/s/components/AuthenticationCreateResponse.json"
    grep -q '"scope"' "$work/s/components/AuthenticationCreateResponse.json" || fail "schema not edited"
    sed -i 's/"sha256": *"[0-9a-f]*"/"sha256": "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"/' \
        "$work/s/operations.json"
    ic run --no-color --replay --schemas "$work/s" --reports "$work/r" cases/smoke.yaml \
        >"$work/out" 2>"$work/err"
    rc=$?
    cat "$work/out" "$work/err"
    [ $rc -eq 1 ] || fail "replay against a changed spec exited $rc, expected 1"
    grep -q "scope" "$work/out" || fail "the failure does not name the missing field"
    grep -q "today's is fedcba987654" "$work/err" || fail "no spec warning against the changed spec"
    ic cassette lint --schemas "$work/s" cases/cassettes/smoke.yaml >"$work/out" 2>&1
    rc=$?
    [ $rc -eq 1 ] || fail "lint against a changed spec exited $rc, expected 1"
    grep -q "scope" "$work/out" || fail "lint does not name the missing field"
    ;;
once)
    # once: a missing cassette is recorded, an existing one replayed with no
    # network (the base URL is a closed port: any request would fail).
    ic run --no-color --record-mode once --mock-seed $SEED --run-id $RUN_ID --cassettes "$work/c" \
        --reports "$work/r" cases/smoke.yaml >"$work/out" 2>&1 ||
        fail "recording failed: $(tail -n 5 "$work/out")"
    tail -n 1 "$work/out"
    grep -q 'mode once): 0 replayed, 5 recorded, 1 file written' "$work/out" ||
        fail "once did not record the missing cassette"
    [ -s "$work/c/smoke.yaml" ] || fail "no cassette written"
    cp "$work/c/smoke.yaml" "$work/before.yaml"
    ic run --no-color --record-mode once --base-url http://127.0.0.1:9 --app-id X1 --api-key k1 \
        --cassettes "$work/c" --reports "$work/r" cases/smoke.yaml >"$work/out" 2>&1 ||
        fail "once over an existing cassette: $(tail -n 8 "$work/out")"
    tail -n 1 "$work/out"
    grep -q 'mode once): 5 replayed, 0 recorded, 0 files written' "$work/out" ||
        fail "once did not replay the existing cassette"
    cmp "$work/before.yaml" "$work/c/smoke.yaml" || fail "once rewrote an existing cassette"
    ;;
new-episodes)
    # new_episodes: what matches is replayed, only the new case is recorded
    # and appended; the recorded interactions stay byte for byte.
    mkdir -p "$work/cases" "$work/c"
    cp cases/smoke.yaml "$work/cases/smoke.yaml"
    cp cases/cassettes/smoke.yaml "$work/c/smoke.yaml"
    cat >>"$work/cases/smoke.yaml" <<'YAML'
  - name: smoke - a new episode
    steps:
      - operation: getTasks
        query: {itemsPerPage: 5}
YAML
    ic run --no-color --record-mode new_episodes --mock-seed $SEED --run-id $RUN_ID \
        --cassettes "$work/c" --reports "$work/r" "$work/cases/smoke.yaml" >"$work/out" 2>&1 ||
        fail "new_episodes failed: $(tail -n 8 "$work/out")"
    tail -n 1 "$work/out"
    grep -q 'mode new_episodes): 5 replayed, 1 recorded, 1 file written' "$work/out" ||
        fail "new_episodes did not record exactly the new interaction"
    n1=$(grep -c '^- ingestcheck:' cases/cassettes/smoke.yaml)
    n2=$(grep -c '^- ingestcheck:' "$work/c/smoke.yaml")
    [ "$n2" -eq $((n1 + 1)) ] || fail "$n1 interactions before, $n2 after (expected one more)"
    sed -n '/^interactions:/,$p' cases/cassettes/smoke.yaml | grep -v '^version:' >"$work/old"
    sed -n '/^interactions:/,$p' "$work/c/smoke.yaml" >"$work/new"
    head -n "$(wc -l <"$work/old")" "$work/new" | cmp -s - "$work/old" ||
        fail "the recorded interactions changed"
    grep -q 'case: smoke - a new episode' "$work/c/smoke.yaml" || fail "the new case is not labelled"
    # The result replays offline, the new episode included.
    ic run --no-color --quiet --replay --cassettes "$work/c" --reports "$work/r" \
        "$work/cases/smoke.yaml" >"$work/out" 2>&1 || fail "replay after new_episodes failed"
    grep -q '2 cases: 2 passed' "$work/out" || fail "replay after new_episodes: $(tail -n 2 "$work/out")"
    ;;
newer-format)
    # A cassette from a newer format version: refused with file:line, exit 2.
    mkdir -p "$work/c" "$work/d"
    sed 's/^version: 1$/version: 2/' cases/cassettes/smoke.yaml >"$work/c/smoke.yaml"
    sed 's/^  format: 1$/  format: 2/' cases/cassettes/smoke.yaml >"$work/d/smoke.yaml"
    for dir in "$work/c" "$work/d"; do
        cmp -s cases/cassettes/smoke.yaml "$dir/smoke.yaml" && fail "the version was not edited"
        for mode in none once new_episodes; do
            ic run --no-color --record-mode $mode --cassettes "$dir" --reports "$work/r" \
                cases/smoke.yaml >"$work/out" 2>&1
            rc=$?
            [ $rc -eq 2 ] || fail "mode $mode: a newer cassette exited $rc, expected 2"
            grep -Eq "$dir/smoke.yaml:[0-9]+:[0-9]+: .*2 is newer than this ingestcheck reads \(1\)" \
                "$work/out" || fail "mode $mode: no file:line: reason: $(cat "$work/out")"
        done
        ic cassette lint "$dir/smoke.yaml" >"$work/out" 2>&1
        [ $? -eq 2 ] || fail "cassette lint accepted a newer cassette"
    done
    cat "$work/out"
    ;;
corrupt)
    mkdir -p "$work/c"
    head -c 700 cases/cassettes/smoke.yaml >"$work/c/smoke.yaml"
    ic run --no-color --replay --cassettes "$work/c" --reports "$work/r" cases/smoke.yaml \
        >"$work/out" 2>&1
    rc=$?
    cat "$work/out"
    [ $rc -eq 2 ] || fail "a truncated cassette exited $rc, expected 2"
    grep -Eq "$work/c/smoke.yaml:[0-9]+:[0-9]+: " "$work/out" || fail "no file:line: reason"
    printf 'interactions: [\n' >"$work/c/smoke.yaml"
    ic run --no-color --replay --cassettes "$work/c" cases/smoke.yaml >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "an unterminated cassette was accepted"
    ic cassette lint "$work/c/smoke.yaml" >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "cassette lint accepted a corrupt cassette"
    # A missing cassette in replay-only mode is a usage error too.
    ic run --no-color --replay --cassettes "$work/none" cases/smoke.yaml >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "a missing cassette was not refused"
    ;;
lint)
    ic cassette lint >"$work/out" 2>&1 || { cat "$work/out"; fail "cassette lint failed"; }
    tail -n 1 "$work/out"
    ic cassette export --har "$work/suite.har" cases/cassettes/*.yaml || fail "export failed"
    n=$(grep -c '"startedDateTime"' "$work/suite.har")
    [ "$n" -gt 100 ] || fail "only $n HAR entries"
    ;;
durations)
    grep -q 'duration_ms@' cases/cassettes/*.yaml && fail "a seeded recording holds durations"
    ic run --no-color --quiet --record-mode all --cassettes "$work/c" --reports "$work/r" cases \
        >"$work/out" 2>&1 || fail "recording failed: $(tail -n 5 "$work/out")"
    cases=$(ic run --list cases | wc -l)
    n=$(cat "$work/c"/*.yaml | grep -c 'name: .*duration_ms@')
    [ "$n" -eq "$cases" ] || fail "$n durations recorded for $cases cases"
    for k in 1 2; do
        ic run --no-color --replay --cassettes "$work/c" --shard $k/2 --reports "$work/s$k" cases \
            >"$work/out$k" 2>&1 || fail "shard $k/2 failed: $(tail -n 5 "$work/out$k")"
        grep -q "^shard $k/2: .* cases (balanced by recorded durations)" "$work/out$k" ||
            fail "shard $k/2 not balanced by durations: $(head -n 1 "$work/out$k")"
    done
    ic merge --no-color --reports "$work/m" "$work/s2" "$work/s1" >"$work/out" 2>&1 ||
        fail "merge failed: $(tail -n 5 "$work/out")"
    grep -q "^$cases cases: $cases passed, 0 failed" "$work/out" || fail "$(tail -n 2 "$work/out")"
    ;;
partial-rerecord)
    # The interactions and values of every case but $1 in cassette $2, one
    # line per block (a block starts at "- ingestcheck:" or "- name:").
    others() {
        awk -v skip="$1" '
            /^(- ingestcheck:|  - name: |interactions:)/ { flush(); }
            { blk = blk $0 "\n" }
            /^    case: / { if (substr($0, 11) == skip) drop = 1 }
            /^  - name: / { n = $0; sub(/^  - name: [^@]*@?/, "", n); if (index($0, "@") && n == skip) drop = 1 }
            function flush() { if (!drop) printf "%s", blk; blk = ""; drop = 0 }
            END { flush() }' "$2"
    }
    mkdir -p "$work/s" && cp -r cases "$work/s/" || fail "copy"
    one="tasks - schedule triggers"
    # -j 1: the seeded mock's IDs follow the order of the requests.
    (cd "$work/s" && ic run --no-color --quiet --mock-seed $SEED --record-mode all \
        --schemas "$src/schemas" --case "$one" --reports "$work/r1" cases) >"$work/out" 2>&1 ||
        fail "re-recording one case failed: $(tail -n 5 "$work/out")"
    for f in cases/cassettes/*.yaml; do
        b=$(basename "$f")
        [ "$b" = tasks.yaml ] && continue
        cmp "$f" "$work/s/cases/cassettes/$b" || fail "$b changed by re-recording a case of tasks.yaml"
    done
    others "$one" cases/cassettes/tasks.yaml >"$work/before"
    others "$one" "$work/s/cases/cassettes/tasks.yaml" >"$work/after"
    [ -s "$work/before" ] || fail "no other case found in tasks.yaml (awk)"
    grep -q "^    case: $one\$" "$work/s/cases/cassettes/tasks.yaml" ||
        fail "the re-recorded case is not in tasks.yaml"
    diff -u "$work/before" "$work/after" >"$work/diff" ||
        fail "the other cases' recordings changed: $(head -n 20 "$work/diff")"
    cp "$work/s/cases/cassettes/tasks.yaml" "$work/first"
    (cd "$work/s" && ic run --no-color --quiet --mock-seed $SEED --record-mode all \
        --schemas "$src/schemas" --case "$one" --reports "$work/r2" cases) >"$work/out" 2>&1 ||
        fail "re-recording again failed: $(tail -n 5 "$work/out")"
    cmp "$work/first" "$work/s/cases/cassettes/tasks.yaml" ||
        fail "re-recording the same case twice gives different files"
    # Another run id than the kept recordings': refused, nothing written.
    (cd "$work/s" && ic run --no-color --quiet --mock-seed $SEED --record-mode all \
        --run-id other --schemas "$src/schemas" --case "$one" --reports "$work/r3" cases) \
        >"$work/out" 2>&1
    rc=$?
    [ $rc -eq 2 ] || fail "--run-id other: exit $rc, expected 2: $(tail -n 3 "$work/out")"
    grep -q "cases/cassettes/tasks.yaml: re-recording some of its cases, but its other cases were recorded with run id $RUN_ID, not other: give --run-id $RUN_ID" "$work/out" ||
        fail "--run-id other: $(tail -n 3 "$work/out")"
    cmp "$work/first" "$work/s/cases/cassettes/tasks.yaml" || fail "a refused run wrote tasks.yaml"
    # A shard re-recorded: the whole suite still replays from its cassettes.
    (cd "$work/s" && ic run --no-color --quiet --mock-seed $SEED --record-mode all --shard 1/4 \
        --schemas "$src/schemas" --reports "$work/r4" cases) >"$work/out" 2>&1 ||
        fail "re-recording shard 1/4 failed: $(tail -n 5 "$work/out")"
    (cd "$work/s" && ic run --no-color --quiet --replay --schemas "$src/schemas" \
        --reports "$work/r5" cases) >"$work/out" 2>&1 ||
        fail "the whole suite does not replay after re-recording shard 1/4: $(tail -n 5 "$work/out")"
    cases=$(ic run --list cases | wc -l)
    grep -q "^$cases cases: $cases passed, 0 failed" "$work/out" || fail "$(tail -n 2 "$work/out")"
    ;;
subset-replay)
    cp tests/data/cassette/subset.yaml "$work/" || fail "copy"
    ic run --no-color --quiet --mock-seed 1 --record-mode all --reports "$work/r1" \
        "$work/subset.yaml" >"$work/out" 2>&1 || fail "recording failed: $(tail -n 5 "$work/out")"
    ic run --no-color --quiet --replay --case "with none" --reports "$work/r2" \
        "$work/subset.yaml" >"$work/out" 2>&1 ||
        fail "replaying 'with none' alone: $(tail -n 8 "$work/out")"
    grep -q "^1 case: 1 passed, 0 failed" "$work/out" || fail "$(tail -n 2 "$work/out")"
    ;;
seeded-uuid)
    uuids() { # seed jobs: the {{uuid}} values sent by "authentications - batch get"
        ic run --no-color --quiet --mock-seed "$1" --run-id X -j "$2" --reports "$work/r$1-$2" \
            cases/authentications.yaml >"$work/out" 2>&1 || fail "seed $1 -j $2: $(tail -n 3 "$work/out")"
        grep -o 'authenticationIDs":[^]]*]' "$work/r$1-$2/results.json" | sed -n 2p
    }
    a=$(uuids 5 1)
    b=$(uuids 5 4)
    c=$(uuids 6 1)
    echo "seed 5 -j 1: $a"
    echo "seed 6 -j 1: $c"
    echo "$a" | grep -Eq '[0-9a-f]{8}-[0-9a-f]{4}-4' || fail "no generated uuid found in results.json"
    [ "$a" = "$b" ] || fail "seed 5 gives other uuids at -j 4: $b"
    [ "$a" != "$c" ] || fail "seeds 5 and 6 give the same uuids"
    ;;
*)
    echo "unknown test $what"
    exit 1
    ;;
esac
echo "ok: $what"
exit 0
