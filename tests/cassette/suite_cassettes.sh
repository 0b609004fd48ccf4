#!/bin/sh
# The shipped cassettes of the Ingestion suite (cases/cassettes/), end to
# end through `ingestcheck run`:
#   replay       replay offline (--replay): exit 0, every check passes
#   rerecord     re-record with the same seed and run id: byte-identical files
#   closed-port  replay with --base-url on a closed port: still passes, and
#                (where strace works) not one socket() or connect() call
#   unshare      replay inside `unshare -n` (no interfaces); 77 when not permitted
#   secrets      record with a random API key, app ID and credentials: none of
#                their bytes appear in any file written (cassettes, reports, logs)
#   miss         replay-only miss: a failed step naming the closest recording
#   corrupt      a truncated cassette: exit 2 with file:line: reason
#   lint         `cassette lint` of the shipped cassettes passes; export --har works
#   durations    an unseeded recording holds each case's duration (the shipped,
#                seeded ones none); --shard balances by them, the shards
#                replay and merge into one passing run
# Usage: suite_cassettes.sh INGESTCHECK SOURCE_DIR TEST
set -u
if [ -n "${INGESTCHECK_UNDER_VALGRIND:-}" ] && [ -z "${SUITE_CASSETTES_REEXEC:-}" ]; then
    SUITE_CASSETTES_REEXEC=1 exec /bin/sh "$0" "$@"
fi
run=""
if [ -n "${INGESTCHECK_UNDER_VALGRIND:-}" ]; then
    run="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect -q"
fi
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
    KEY="k$(rnd)"
    APP="A$(rnd | tr 'a-f' 'A-F' | cut -c1-10)"
    PW="pw$(rnd)"
    AK="ak$(rnd)"
    CS="cs$(rnd)"
    TOK="tk$(rnd)"
    export IC_SECRET_PW="$PW" IC_SECRET_AK="$AK" IC_SECRET_CS="$CS" IC_SECRET_TOK="$TOK"
    ic run --no-color --record-mode all --app-id "$APP" --api-key "$KEY" --redact token \
        --cassettes "$work/c" --reports "$work/r" \
        "$src/tests/data/cassette/secrets.yaml" cases/smoke.yaml cases/credentials.yaml \
        >"$work/log" 2>&1
    rc=$?
    [ $rc -le 1 ] || fail "recording exited $rc: $(tail -n 5 "$work/log")"
    ls "$work/c"/*.yaml >/dev/null 2>&1 || fail "no cassette written"
    # The application ID is redacted from cassettes; reports show it (the
    # runner does not treat it as a secret: it is public in Algolia front
    # ends), so it is searched for in the cassettes only.
    if grep -rlF -- "$APP" "$work/c"; then
        fail "the application ID appears in a cassette"
    fi
    for s in "$KEY" "$PW" "$AK" "$CS" "$TOK"; do
        if grep -rlF -- "$s" "$work"; then
            grep -rnoF -- "$s" "$work" | head -3; echo "secret: $s"
            fail "a secret value appears in the files above"
        fi
    done
    # Replay with other credentials still matches (placeholders).
    ic run --no-color --quiet --replay --app-id OTHERAPP01 --api-key other-key-123456 \
        --cassettes "$work/c" --reports "$work/r2" \
        "$src/tests/data/cassette/secrets.yaml" >"$work/out2" 2>&1 ||
        fail "replay with other credentials: $(tail -n 8 "$work/out2")"
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
*)
    echo "unknown test $what"
    exit 1
    ;;
esac
echo "ok: $what"
exit 0
