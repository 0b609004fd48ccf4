#!/bin/sh
# The API coverage outputs of the shipped suite, end to end:
#   genhtml   `ingestcheck run --replay cases` writes api-coverage.info;
#             genhtml renders it (exit 0) and its totals equal the tracefile's
#             LF/LH and FNF/FNH, which equal those counted independently from
#             coverage.json (distinct declaration lines, hit when any item on
#             the line was); every operation of the spec is called (33 of 33)
#   chromium  `ingestcheck coverage` (offline, from cases/cassettes) writes
#             coverage.html; headless Chromium renders it: the DOM holds the
#             matrix with one row per operation of coverage.json in order and
#             the totals row, no console message is logged (a copy of the page
#             loading a network asset must log one, so the check can fail), and
#             a screenshot saved as REPORTS/offline/coverage.png is not blank
#   gates     --fail-under and --fail-on-spec-gap on `coverage` and on
#             `run --replay`: exit 1 naming the dimension and the shortfall
#             when below, 0 at the suite's own figures, 2 for a bad value
#             before anything runs
# genhtml and chromium skip (77) without genhtml, chromium or /usr/bin/python3.
# Usage: outputs.sh INGESTCHECK SOURCE_DIR REPORTS TEST
set -u
. "$(dirname "$0")/../common/valgrind.sh"
bin="$1"
src="$2"
reports="$3"
what="$4"
py=/usr/bin/python3

fail() {
    echo "FAIL: $*"
    exit 1
}
skip() {
    echo "SKIP: $*"
    exit 77
}

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
cd "$src" || exit 1
mkdir -p "$reports" || exit 1

case "$what" in
genhtml)
    [ -x "$py" ] || skip "/usr/bin/python3 is absent"
    command -v genhtml >/dev/null 2>&1 || skip "genhtml (Debian lcov) is absent"
    out="$reports/replay"
    $run "$bin" run --no-color --quiet --replay --reports "$out" cases >"$work/run.out" 2>&1 ||
        fail "the suite replay failed: $(tail -n 5 "$work/run.out")"
    genhtml --output-directory "$work/html" "$out/api-coverage.info" >"$work/genhtml.out" 2>&1 ||
        fail "genhtml failed: $(cat "$work/genhtml.out")"
    tail -n 3 "$work/genhtml.out"
    page=$(find "$work/html" -name 'ingestion.yml.gcov.html' | head -n 1)
    [ -n "$page" ] || fail "genhtml wrote no page for the spec"
    "$py" - "$out/api-coverage.info" "$out/coverage.json" "$work/genhtml.out" "$page" <<'EOF' ||
import json, re, sys
info_path, cov_path, out_path, page_path = sys.argv[1:5]
info = {}
for line in open(info_path):
    key, _, value = line.strip().partition(":")
    if key in ("LF", "LH", "FNF", "FNH", "BRF", "BRH"):
        info[key] = int(value)
cov = json.load(open(cov_path))
lines = {}
def add(line, count):
    if line > 0:
        lines[line] = lines.get(line, 0) + count
for op in cov["operations"]:
    add(op["line"], op["calls"])
    for s in op["statuses"]:
        add(s["line"], s["count"])
    for p in op["parameters"]:
        add(p["line"], p["count"])
    for e in op["enums"]:
        for v in e["values"]:
            add(v["line"], v["count"])
want = {"LF": len(lines), "LH": sum(1 for c in lines.values() if c),
        "FNF": len(cov["operations"]),
        "FNH": sum(1 for op in cov["operations"] if op["calls"])}
text = open(out_path).read()
m = re.search(r"lines\.+: [0-9.]+% \((\d+) of (\d+) lines\)", text)
f = re.search(r"functions\.+: [0-9.]+% \((\d+) of (\d+) functions\)", text)
if not m or not f:
    sys.exit("genhtml printed no line or function totals:\n" + text)
shown = {"LH": int(m.group(1)), "LF": int(m.group(2)),
         "FNH": int(f.group(1)), "FNF": int(f.group(2))}
page = open(page_path).read()
marked = {"LH": page.count('class="lineCov"'), "LF": page.count('class="lineCov"') + page.count('class="lineNoCov"')}
for k in ("LF", "LH", "FNF", "FNH"):
    if not (info[k] == want[k] == shown[k]):
        sys.exit(f"{k}: tracefile {info[k]}, coverage.json {want[k]}, genhtml {shown[k]}")
for k in ("LF", "LH"):
    if marked[k] != want[k]:
        sys.exit(f"{k}: the rendered spec marks {marked[k]} lines, expected {want[k]}")
if want["FNF"] != 33 or want["FNH"] != 33:
    sys.exit(f"the suite calls {want['FNH']} of {want['FNF']} operations, expected 33 of 33")
if want["LF"] == 0 or not 0 < want["LH"] <= want["LF"]:
    sys.exit(f"implausible line totals {want}")
print(f"genhtml: {shown['LH']} of {shown['LF']} declaration lines, "
      f"{shown['FNH']} of {shown['FNF']} operations (tracefile and coverage.json agree)")
EOF
        fail "totals differ"
    ;;
chromium)
    [ -x "$py" ] || skip "/usr/bin/python3 is absent"
    chrome=$(command -v chromium || command -v chromium-browser) || skip "chromium is absent"
    out="$reports/offline"
    $run "$bin" coverage --reports "$out" cases/cassettes >"$work/cov.out" 2>&1 ||
        fail "ingestcheck coverage failed: $(cat "$work/cov.out")"
    cat "$work/cov.out"
    browse() {
        timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --no-first-run \
            --user-data-dir="$work/profile" --enable-logging=stderr --v=0 "$@"
    }
    browse --dump-dom "file://$out/coverage.html" >"$work/dom.html" 2>"$work/dom.err" ||
        fail "chromium --dump-dom failed: $(tail -n 5 "$work/dom.err")"
    rm -f "$out/coverage.png"
    browse --screenshot="$out/coverage.png" --window-size=1300,2400 \
        "file://$out/coverage.html" >/dev/null 2>"$work/shot.err" ||
        fail "chromium --screenshot failed: $(tail -n 5 "$work/shot.err")"
    # The negative control: the same page with a network asset.
    sed 's#<h1>#<img src="http://example.invalid/x.png"><h1>#' "$out/coverage.html" >"$work/bad.html"
    browse --dump-dom "file://$work/bad.html" >/dev/null 2>"$work/bad.err" ||
        fail "chromium failed on the control page"
    "$py" - "$out/coverage.json" "$work/dom.html" "$work/dom.err" "$work/shot.err" \
        "$work/bad.err" "$out/coverage.png" <<'EOF' ||
import json, struct, sys, zlib
from html.parser import HTMLParser
cov_path, dom_path, dom_err, shot_err, bad_err, png_path = sys.argv[1:7]

class Matrix(HTMLParser):
    def __init__(self):
        super().__init__()
        self.in_matrix = self.in_body = self.in_foot = self.in_first = False
        self.rows, self.foot, self.cell, self.cells = [], False, 0, 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "matrix":
            self.in_matrix = True
        elif self.in_matrix and tag == "tbody":
            self.in_body = True
        elif self.in_matrix and tag == "tfoot":
            self.in_foot = True
        elif self.in_body and tag == "tr":
            self.rows.append("")
            self.cell = 0
        elif self.in_body and tag == "td":
            self.cell += 1
            self.in_first = self.cell == 1
        elif self.in_foot and tag == "th":
            self.foot = True
    def handle_endtag(self, tag):
        if tag == "table":
            self.in_matrix = self.in_body = self.in_foot = False
        elif tag == "tbody":
            self.in_body = False
        elif tag == "td":
            self.in_first = False
    def handle_data(self, data):
        if self.in_first and self.rows:
            self.rows[-1] += data.strip()

ops = [op["operationId"] for op in json.load(open(cov_path))["operations"]]
m = Matrix()
m.feed(open(dom_path).read())
if m.rows != ops:
    sys.exit(f"the rendered matrix has rows {m.rows[:5]}... ({len(m.rows)}), expected {len(ops)} operations")
if not m.foot:
    sys.exit("the rendered matrix has no totals row")

def console(path):
    return [l for l in open(path, errors="replace") if ":CONSOLE" in l]
for path in (dom_err, shot_err):
    msgs = console(path)
    if msgs:
        sys.exit("console messages while rendering coverage.html:\n" + "".join(msgs))
if not console(bad_err):
    sys.exit("the control page's blocked network load logged nothing: the console check is blind")

data = open(png_path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit("the screenshot is not a PNG")
width, height = struct.unpack(">II", data[16:24])
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
if width < 1000 or height < 1000 or len(set(raw)) < 32:
    sys.exit(f"the screenshot looks blank ({width}x{height}, {len(set(raw))} distinct bytes)")
print(f"chromium: matrix of {len(m.rows)} operations rendered, no console message; "
      f"screenshot {png_path} ({width}x{height})")
EOF
        fail "rendering check failed"
    # The screenshot also goes to the project's reports/ (atomically), next
    # to the main job's reports.
    mkdir -p "$src/reports" && cp "$out/coverage.png" "$src/reports/.coverage.png.$$" &&
        mv -f "$src/reports/.coverage.png.$$" "$src/reports/coverage.png" ||
        fail "cannot save the screenshot into $src/reports"
    echo "screenshot saved as $src/reports/coverage.png"
    ;;
gates)
    ic() {
        $run "$bin" "$@" >"$work/out" 2>"$work/err"
        echo $?
    }
    # The suite's figures: 33/33 operations, 56/66 statuses (84.85%), 64/64 parameters.
    rc=$(ic coverage --reports "$work/a" --fail-under operations=100,statuses=84.84,parameters=100)
    [ "$rc" = 0 ] || fail "at the suite's figures: exit $rc: $(cat "$work/err")"
    grep -q '^API coverage: operations 33/33 (100.0%), statuses 56/66 (84.8%)' "$work/out" ||
        fail "summary line: $(cat "$work/out")"
    rc=$(ic coverage --reports "$work/a" --fail-under statuses=85,operations=100)
    [ "$rc" = 1 ] || fail "statuses=85: exit $rc"
    grep -q 'statuses coverage 84.85% is below 85.00% by 0.15 points (56 of 66 covered; 1 more needed)' \
        "$work/err" || fail "statuses=85: $(cat "$work/err")"
    grep -q operations "$work/err" && fail "operations reported although at 100%"
    rc=$(ic coverage --reports "$work/a" --fail-on-spec-gap)
    [ "$rc" = 1 ] || fail "--fail-on-spec-gap: exit $rc"
    grep -q -- '--fail-on-spec-gap: 53 undocumented statuses seen' "$work/err" ||
        fail "--fail-on-spec-gap: $(cat "$work/err")"
    rc=$(ic run --no-color --quiet --replay --reports "$work/r" --fail-under enums=100 cases)
    [ "$rc" = 1 ] || fail "run --fail-under enums=100: exit $rc"
    grep -q 'enums coverage 76.67% is below 100.00%' "$work/err" || fail "run: $(cat "$work/err")"
    [ -s "$work/r/coverage.json" ] && [ -s "$work/r/results.json" ] || fail "run wrote no reports"
    rc=$(ic run --no-color --quiet --replay --reports "$work/bad" --fail-under enum=1 cases)
    [ "$rc" = 2 ] || fail "a bad --fail-under: exit $rc"
    grep -q "'enum=1' is not DIMENSION=PERCENT" "$work/err" || fail "bad value: $(cat "$work/err")"
    [ -e "$work/bad" ] && fail "a bad --fail-under ran the suite"
    echo "gates: pass at the suite's figures, fail below them, refuse bad values"
    ;;
*)
    fail "unknown test $what"
    ;;
esac
