#!/bin/sh
# Validates ingestcheck's HAR export with har-validator (npm). The package is
# installed once into the build directory; exit 77 (skip) when node or npm
# is absent or the install fails (offline).
set -u
. "$(dirname "$0")/../common/valgrind.sh"
tool="$1"
command -v node >/dev/null 2>&1 || { echo "node not found: skipping"; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "npm not found: skipping"; exit 77; }
cache="${INGESTCHECK_BUILD_DIR:-${TMPDIR:-/tmp}}/npm-har-validator"
if [ ! -d "$cache/node_modules/har-validator" ]; then
    mkdir -p "$cache" || exit 77
    if ! npm install --prefix "$cache" --no-audit --no-fund --silent har-validator@5 >"$cache/install.log" 2>&1; then
        echo "npm install har-validator failed (offline?): skipping"; cat "$cache/install.log"; exit 77
    fi
fi
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
$run "$tool" compat "$work" || exit 1
$run "$tool" har "$work/compat.yaml" "$work/compat.har" || exit 1
$run "$tool" generate 200 7 "$work/synthetic.yaml" || exit 1
$run "$tool" har "$work/synthetic.yaml" "$work/synthetic.har" || exit 1
NODE_PATH="$cache/node_modules" node -e '
const validate = require("har-validator");
const fs = require("fs");
let failed = 0;
(async () => {
  for (const f of process.argv.slice(1)) {
    const har = JSON.parse(fs.readFileSync(f, "utf8"));
    try {
      await validate.har(har);
      console.log(f + ": valid HAR 1.2 (" + har.log.entries.length + " entries)");
    } catch (e) {
      failed = 1;
      console.log(f + ": INVALID: " + JSON.stringify(e.errors || e.message));
    }
  }
  process.exit(failed);
})();
' "$work/compat.har" "$work/synthetic.har"
