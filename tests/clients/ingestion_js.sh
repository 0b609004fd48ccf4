#!/bin/sh
# Algolia's official JS client (@algolia/ingestion from npm, pinned below)
# against `serve` (issue 14, point 6): installs it with npm into WORK_DIR
# (kept between runs), starts `serve --spec` of the newest revision of
# ../shared/spec/revisions (the client follows the newest spec) as a
# process of its own (--port 0, killed by PID), and runs
# ingestion_js.mjs: every operation the client exposes must be called and
# its answer accepted by the client. Then the same against the default spec
# (April 2024), printed for information only: the client's newer operations
# are not in it (404, 405) and their dependants are not called.
# Skips (77) without node or npm, when the registry is unreachable, or
# without ../shared/spec/revisions.
# Usage: ingestion_js.sh INGESTCHECK SOURCE_DIR WORK_DIR
set -u
bin="$1"
src="$2"
work="$3"
version=1.65.1
here=$(cd "$(dirname "$0")" && pwd)
pid=""

fail() {
    echo "FAIL: $*"
    exit 1
}

command -v node >/dev/null || { echo "SKIP: no node"; exit 77; }
command -v npm >/dev/null || { echo "SKIP: no npm"; exit 77; }
spec=$(ls "$src"/../shared/spec/revisions/ingestion-*.yml 2>/dev/null | sort | tail -n 1)
[ -n "$spec" ] || { echo "SKIP: no ../shared/spec/revisions"; exit 77; }
mkdir -p "$work" || fail "cannot create $work"
mods="$work/npm/node_modules"
have=$(node -p "require('$mods/@algolia/ingestion/package.json').version" 2>/dev/null)
if [ "$have" != "$version" ]; then
    if ! npm install --no-audit --no-fund --prefix "$work/npm" "@algolia/ingestion@$version" \
        >"$work/npm-install.txt" 2>&1; then
        npm ping >/dev/null 2>&1 || { echo "SKIP: the npm registry is unreachable"; exit 77; }
        cat "$work/npm-install.txt"
        fail "npm install @algolia/ingestion@$version"
    fi
fi
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null' EXIT
app=JSCLIENT
key="key-$$"

# drive NAME [SERVE_OPTIONS...]: serve, the client against it; sets rc.
drive() {
    name="$1"
    shift
    "$bin" serve --no-color --port 0 --app-id "$app" --api-key "$key" "$@" \
        >"$work/$name-serve.txt" 2>&1 &
    pid=$!
    port=""
    i=0
    while [ -z "$port" ] && [ $i -lt 300 ]; do
        kill -0 "$pid" 2>/dev/null || { cat "$work/$name-serve.txt"; fail "serve $name exited"; }
        port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$work/$name-serve.txt")
        [ -n "$port" ] || { sleep 0.1; i=$((i + 1)); }
    done
    [ -n "$port" ] || fail "serve $name: no listening line in 30 s"
    node "$here/ingestion_js.mjs" "$mods" "$port" "$app" "$key" >"$work/$name.txt" 2>&1
    rc=$?
    kill "$pid"
    wait "$pid" || fail "serve $name exit $? on SIGTERM"
    pid=""
}

drive newest --spec "$spec"
newest=$rc
echo "== @algolia/ingestion@$version against serve --spec $(basename "$spec")"
cat "$work/newest.txt"
drive default
echo "== for information: the same against serve with the default spec"
cat "$work/default.txt"
[ "$newest" = 0 ] || fail "the client refused an answer, or an operation was not called (above)"
grep -q '"failed":0}' "$work/newest.txt" || fail "no summary line from the client"
echo "ok: every operation of @algolia/ingestion@$version called and accepted"
