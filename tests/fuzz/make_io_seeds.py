#!/usr/bin/python3
"""Regenerates the seed corpora of the fuzz targets case_load, cassette_load,
template and mock_request from the project's own data:

  seed-*   taken from cases/*.yaml, cases/cassettes/*.yaml and tests/data/
           (each case of a case file alone; windows of recorded interactions
           with the cassette's metadata; the templates and captures of each
           case with a recorded answer as the capture document; the requests
           of each recorded case as a request sequence for the mock, IDs of
           earlier answers written $0..$9);
  edge-*   hand-written bad and odd inputs (below).

Files found by fuzzing (hash names) and regress-* files are left alone.

  /usr/bin/python3 tests/fuzz/make_io_seeds.py

Needs PyYAML (Debian python3-yaml, installed with python3-vcr)."""
import json
import os
import sys
import urllib.parse

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
# Seeds stay below libFuzzer's -max_len of tests/fuzz/run (32768).
MAX_SEED = 30000


def clean(target):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith("seed-") or f.startswith("edge-"):
            os.unlink(os.path.join(d, f))
    return d


def write(d, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if len(data) > MAX_SEED:
        return
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def case_files():
    cases = os.path.join(ROOT, "cases")
    return sorted(os.path.join(cases, f) for f in os.listdir(cases) if f.endswith(".yaml"))


def cassette_files():
    d = os.path.join(ROOT, "cases", "cassettes")
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".yaml"))


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def split_cases(text):
    """The text of each case of a case file (items of the top-level cases:
    sequence, written at indent 2)."""
    lines = text.splitlines(keepends=True)
    out, cur, inside = [], None, False
    for line in lines:
        if line.startswith("cases:"):
            inside = True
            continue
        if not inside:
            continue
        if line.startswith("  - "):
            if cur:
                out.append("".join(cur))
            cur = [line]
        elif cur is not None:
            cur.append(line)
    if cur:
        out.append("".join(cur))
    return out


def split_cassette(text):
    """(metadata text, [interaction texts]) of a cassette written by
    ingestcheck (interactions at column 0, version last)."""
    head, items, cur, part = [], [], None, "head"
    for line in text.splitlines(keepends=True):
        if line.startswith("interactions:"):
            part = "items"
            continue
        if line.startswith("version:"):
            part = "tail"
            continue
        if part == "head":
            head.append(line)
        elif part == "items":
            if line.startswith("- "):
                if cur:
                    items.append("".join(cur))
                cur = [line]
            elif cur is not None:
                cur.append(line)
    if cur:
        items.append("".join(cur))
    return "".join(head), items


# ---- case_load -------------------------------------------------------------

CASE_HEAD = "cases:\n  - name: a\n    steps:\n"

CASE_EDGES = {
    "empty-list.yaml": "cases: []\n",
    "empty.yaml": "",
    "not-a-mapping.yaml": "- cases\n",
    "scalar.yaml": "cases\n",
    "unterminated-flow.yaml": "cases: [\n",
    "tab-indent.yaml": "cases:\n\t- name: a\n",
    "unknown-key.yaml": "cases:\n  - name: a\n    stps: []\n",
    "unknown-top-key.yaml": "cases: []\nextra: 1\n",
    "tags-string.yaml": "cases:\n  - name: a\n    tags: tasks\n    steps:\n      - operation: getTasks\n",
    "unknown-operation.yaml": CASE_HEAD + "      - operation: creatTask\n",
    "operation-and-method.yaml": CASE_HEAD + "      - operation: getTasks\n        method: GET\n        path: /1/tasks\n",
    "neither.yaml": CASE_HEAD + "      - name: x\n",
    "raw-step.yaml": CASE_HEAD + "      - method: get\n        path: /1/tasks?x=1\n        headers: {X-A: b}\n        body_raw: '{'\n        content_type: text/plain\n",
    "raw-path-map.yaml": CASE_HEAD + "      - method: GET\n        path: {x: 1}\n",
    "raw-path-no-slash.yaml": CASE_HEAD + "      - method: GET\n        path: 1/tasks\n",
    "missing-path-param.yaml": CASE_HEAD + "      - operation: getTask\n",
    "extra-path-param.yaml": CASE_HEAD + "      - operation: getTask\n        path: {taskID: x, other: y}\n",
    "unknown-query.yaml": CASE_HEAD + "      - operation: getTasks\n        query: {nope: 1}\n",
    "body-on-get.yaml": CASE_HEAD + "      - operation: getTasks\n        body: {a: 1}\n",
    "body-and-raw.yaml": CASE_HEAD + "      - operation: createTask\n        body: {}\n        body_raw: '{}'\n",
    "undefined-var.yaml": CASE_HEAD + "      - operation: getTask\n        path: {taskID: '{{nope}}'}\n",
    "var-order.yaml": "cases:\n  - name: a\n    vars: {q: '{{p}}', p: x}\n    steps:\n      - operation: getTasks\n",
    "vars-chain.yaml": "cases:\n  - name: a\n    vars: {p: '{{run.id}}', q: '{{p}}-{{uuid}}', r: '{{now - 1h}}', s: '{{env.HOME}}'}\n    steps:\n      - operation: getTasks\n        query: {sourceID: '{{q}}'}\n",
    "bad-placeholders.yaml": CASE_HEAD + "      - operation: getTasks\n        headers: {a: '{{}}', b: '{{now * 2}}', c: '{{a', d: '{{now - 99999999999d}}'}\n",
    "bad-regex.yaml": CASE_HEAD + "      - operation: getTasks\n        expect: {body: {tasks: {$regex: '(['}}}\n",
    "heavy-regex.yaml": CASE_HEAD + "      - operation: getTasks\n        expect: {body: {tasks: {$regex: '((a{1,50}){1,50}){1,50}'}}}\n",
    "matchers.yaml": CASE_HEAD + "      - operation: getTasks\n        expect:\n          status: [200, 4xx]\n          headers: {content-type: {$regex: json}}\n          body:\n            tasks: {$length: {min: 0, max: 5}, $contains: {enabled: true}}\n            pagination: {$type: [object, null]}\n            x: {$absent: true}\n            y: {$uuid: true, $date-time: false}\n            z: {$exact: {a: [1]}}\n",
    "bad-matchers.yaml": CASE_HEAD + "      - operation: getTasks\n        expect: {body: {a: {$type: strin}, b: {$length: -1}, c: {$nope: 1}, d: {$uuid: 1}}}\n",
    "statuses.yaml": CASE_HEAD + "      - operation: getTasks\n        expect: {status: [99, 600, 6xx, '200', 2xx, 4.5]}\n",
    "many-statuses.yaml": CASE_HEAD + "      - operation: getTasks\n        expect: {status: [" + ", ".join(["200"] * 40) + "]}\n",
    "body-exact.yaml": CASE_HEAD + "      - operation: getTasks\n        expect: {body: {}, body_exact: {}}\n",
    "until.yaml": CASE_HEAD + "      - operation: getTasks\n        until: {status: 200, interval: 5ms, timeout: 2h}\n",
    "until-numbers.yaml": CASE_HEAD + "      - operation: getTasks\n        until: {status: 200, interval: -1, timeout: 1e300}\n",
    "until-durations.yaml": CASE_HEAD + "      - operation: getTasks\n        until: {interval: 9999999999h, timeout: 0}\n",
    "captures.yaml": CASE_HEAD + "      - operation: getTasks\n        capture: {a: /tasks/0/taskID, b: '$.tasks[0].taskID', c: \"$['a b'][1]\", d: 'header:content-type', e: '', f: $}\n      - operation: getTask\n        path: {taskID: '{{a}}{{b}}{{c}}{{d}}{{e}}{{f}}'}\n",
    "bad-captures.yaml": CASE_HEAD + "      - operation: getTasks\n        capture: {a: 'tasks[0]', b: '$..a', c: 'header:', d: '$[x]'}\n",
    "many-captures.yaml": CASE_HEAD + "      - operation: getTasks\n        capture: {" + ", ".join("c%d: /a" % i for i in range(70)) + "}\n",
    "allow.yaml": CASE_HEAD + "      - operation: getTasks\n        allow_undocumented: [404, 500]\n",
    "allow-bad.yaml": CASE_HEAD + "      - operation: getTasks\n        allow_undocumented: [x, 1e10]\n",
    "teardown.yaml": CASE_HEAD + "      - operation: createAuthentication\n        body: {type: basic, name: n, input: {username: u, password: p}}\n        capture: {id: $.authenticationID}\n    teardown:\n      - operation: deleteAuthentication\n        path: {authenticationID: '{{id}}'}\n",
    "duplicate-case-names.yaml": "cases:\n  - name: a\n    steps: [{operation: getTasks}]\n  - name: a\n    steps: [{operation: getTasks}]\n",
    "duplicate-keys.yaml": "cases:\n  - name: a\n    name: b\n    steps: [{operation: getTasks}]\n",
    "anchors.yaml": "cases:\n  - name: a\n    steps:\n      - &s {operation: getTasks}\n      - *s\n",
    "merge-key.yaml": "cases:\n  - name: a\n    steps:\n      - &s {operation: getTasks}\n      - {<<: *s, name: x}\n",
    "alias-bomb.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\ncases: [*e]\n",
    "two-documents.yaml": "cases: []\n---\ncases: []\n",
    "tags.yaml": CASE_HEAD + "      - operation: !!str getTasks\n        query: {limit: !!int '3'}\n        name: !!binary aGVsbG8=\n",
    "unknown-tag.yaml": CASE_HEAD + "      - operation: !foo getTasks\n",
    "numbers.yaml": CASE_HEAD + "      - operation: createTask\n        body: {a: 1e400, b: -0, c: 0x1F, d: 0o17, e: .inf, f: .nan, g: 12345678901234567890}\n",
    "bom.yaml": "\ufeff" + CASE_HEAD + "      - operation: getTasks\n",
    "crlf.yaml": (CASE_HEAD + "      - operation: getTasks\n").replace("\n", "\r\n"),
    "deep-body.yaml": CASE_HEAD + "      - operation: createTask\n        body: " + "[" * 600 + "]" * 600 + "\n",
    "deep-body-300.yaml": CASE_HEAD + "      - operation: createTask\n        body: " + "{a: " * 300 + "1" + "}" * 300 + "\n",
    "long-name.yaml": "cases:\n  - name: " + "n" * 5000 + "\n    steps: [{operation: getTasks}]\n",
    "long-key.yaml": CASE_HEAD + "      - operation: getTasks\n        expect: {body: {" + "k" * 3000 + ": 1}}\n",
    "description.yaml": "cases:\n  - name: a\n    description: |\n      text\n      more\n    steps: [{operation: getTasks}]\n",
}


def case_seeds():
    d = clean("case_load")
    n = 0
    for path in case_files():
        text = open(path, encoding="utf-8").read()
        for i, chunk in enumerate(split_cases(text)):
            write(d, "seed-%s-%02d.yaml" % (stem(path), i), "cases:\n" + chunk)
            n += 1
    data = os.path.join(ROOT, "tests", "data", "case")
    for f in ["valid.yaml", "mock-flow.yaml", os.path.join("suite", "a.yaml")]:
        write(d, "seed-data-" + f.replace(os.sep, "-"), open(os.path.join(data, f), "rb").read())
        n += 1
    write(d, "seed-smoke.yaml", open(os.path.join(ROOT, "cases", "smoke.yaml"), "rb").read())
    for name, text in CASE_EDGES.items():
        write(d, "edge-" + name, text)
    bad = (CASE_HEAD + "      - operation: getTasks\n        name: \"x\xff\x00y\"\n").encode("latin-1")
    write(d, "edge-invalid-utf8.yaml", bad)
    return n + 1 + len(CASE_EDGES) + 1


# ---- cassette_load ---------------------------------------------------------

MINIMAL = ("interactions:\n- request:\n    body: null\n    headers: {}\n    method: GET\n"
           "    uri: http://h/1/tasks\n  response:\n    body: {string: ''}\n    headers: {}\n"
           "    status: {code: 200, message: OK}\nversion: 1\n")

CASSETTE_EDGES = {
    "minimal.yaml": MINIMAL,
    "empty.yaml": "",
    "sequence.yaml": "- a\n",
    "interactions-mapping.yaml": "interactions: {}\nversion: 1\n",
    "no-version.yaml": "interactions: []\n",
    "no-interactions.yaml": "version: 1\n",
    "interactions-null.yaml": "interactions:\nversion: 1\n",
    "newer-version.yaml": "interactions: []\nversion: 2\n",
    "newer-format.yaml": "ingestcheck: {format: 7}\ninteractions: []\nversion: 1\n",
    "version-word.yaml": "interactions: []\nversion: one\n",
    "extra-key.yaml": "interactions: []\nversion: 1\nextra: 1\n",
    "duplicate-version.yaml": "interactions: []\nversion: 1\nversion: 1\n",
    "no-response.yaml": "interactions:\n- request: {method: GET, uri: u}\nversion: 1\n",
    "no-uri.yaml": "interactions:\n- request: {method: GET}\n  response: {status: {code: 200}}\nversion: 1\n",
    "unknown-request-key.yaml": "interactions:\n- request: {method: GET, uri: u, x: 1}\n  response: {status: {code: 200}}\nversion: 1\n",
    "status-word.yaml": "interactions:\n- request: {method: GET, uri: u}\n  response: {status: {code: OK}}\nversion: 1\n",
    "status-999.yaml": "interactions:\n- request: {method: GET, uri: u}\n  response: {status: {code: 999}}\nversion: 1\n",
    "status-huge.yaml": "interactions:\n- request: {method: GET, uri: u}\n  response: {status: {code: 99999999999999999999999}}\nversion: 1\n",
    "method-sequence.yaml": "interactions:\n- request: {method: [GET], uri: u}\n  response: {status: {code: 200}}\nversion: 1\n",
    "duplicate-header.yaml": "interactions:\n- request: {method: GET, uri: u, headers: {A: [x], A: [y]}}\n  response: {status: {code: 200}}\nversion: 1\n",
    "multi-value-headers.yaml": "interactions:\n- request: {method: GET, uri: 'http://h/1/tasks?a=1&a=2&b=%41', headers: {A: [x, y, z], B: [], C: ['']}}\n  response: {status: {code: 204}, headers: {Set-Cookie: [a=1, b=2]}}\nversion: 1\n",
    "alias.yaml": "interactions:\n- request: {method: &m GET, uri: *m}\n  response: {status: {code: 200}}\nversion: 1\n",
    "int-tag.yaml": "interactions:\n- request: {method: GET, uri: !!int 5}\n  response: {status: {code: 200}}\nversion: 1\n",
    "bad-base64.yaml": "interactions:\n- request: {method: GET, uri: u, body: !!binary '***'}\n  response: {status: {code: 200}}\nversion: 1\n",
    "binary-bodies.yaml": "interactions:\n- request: {method: POST, uri: 'http://h/1/tasks', body: !!binary 'AAECAwQ='}\n  response:\n    body: {string: !!binary '/w==' }\n    status: {code: 200, message: OK}\nversion: 1\n",
    "base64-lines.yaml": "interactions:\n- request: {method: POST, uri: 'http://h/x', body: !!binary |\n      aGVs\n      bG8=\n    }\n  response: {status: {code: 200}}\nversion: 1\n",
    "truncated.yaml": "interactions:\n- request: {method: GET, uri: u\n",
    "two-documents.yaml": "interactions: []\nversion: 1\n---\ninteractions: []\nversion: 1\n",
    "control-char.yaml": "interactions: [\x01]\nversion: 1\n",
    "invalid-utf8.yaml": "interactions: []\nversion: 1\n\udcff\n",
    "string-body.yaml": "interactions:\n- request: {method: PUT, uri: 'http://h/1/tasks/x/enable', body: '{\"a\":1}'}\n  response: {body: '{\"b\":2}', status: {code: 200, message: ''}}\nversion: 1\n",
    "null-bodies.yaml": "interactions:\n- request: {method: DELETE, uri: 'http://h/1/tasks/x', body: ~}\n  response: {body: {string: null}, status: {code: 404}}\nversion: 1\n",
    "metadata.yaml": "ingestcheck:\n  format: 1\n  ingestcheck_version: 9.9.9\n  recorded_at: '2024-04-17T00:00:00Z'\n  spec_sha256: ''\n  placeholders: ['<REDACTED:a>', '<REDACTED:b>', '<REDACTED:a>']\n  values: [{name: now, value: '2024-04-17T00:00:00Z'}, {name: uuid, value: x}, {name: now}]\ninteractions: []\nversion: 1\n",
    "meta-wrong-types.yaml": "ingestcheck: {format: '1', recorded_at: [x], placeholders: {a: 1}, values: [1]}\ninteractions: []\nversion: 1\n",
    "interaction-meta.yaml": "interactions:\n- ingestcheck: {case: c, step: s, extra: {deep: [1, {x: y}]}}\n  request: {method: GET, uri: 'http://h/1/runs?taskID=a,b'}\n  response: {status: {code: 200}}\n  recorded_at: now\nversion: 1\n",
    "deep-skip.yaml": "interactions:\n- ingestcheck: {x: " + "[" * 100 + "]" * 100 + "}\n  request: {method: GET, uri: u}\n  response: {status: {code: 200}}\nversion: 1\n",
    "crlf.yaml": MINIMAL.replace("\n", "\r\n"),
    "bom.yaml": "\ufeff" + MINIMAL,
    "flow-all.yaml": "{interactions: [{request: {method: GET, uri: 'http://h/%7Ea/../b?q=%20+x'}, response: {status: {code: 301, message: Moved}, headers: {Location: [/c]}}}], version: 1}\n",
    "long-uri.yaml": "interactions:\n- request: {method: GET, uri: 'http://h/" + "a/" * 3000 + "'}\n  response: {status: {code: 200}}\nversion: 1\n",
    "same-requests.yaml": "interactions:\n" + "".join("- request: {method: GET, uri: 'http://h/1/tasks?page=1'}\n  response: {status: {code: 200}, body: {string: '%d'}}\n" % i for i in range(5)) + "version: 1\n",
    "json-bodies-equal.yaml": "interactions:\n- request: {method: POST, uri: 'http://h/1/tasks/search', body: '{\"taskIDs\": [\"a\", \"b\"]}'}\n  response: {status: {code: 200}}\n- request: {method: POST, uri: 'http://h/1/tasks/search', body: '{\"taskIDs\":[\"a\",\"b\"]}'}\n  response: {status: {code: 400}}\nversion: 1\n",
}


def cassette_seeds():
    d = clean("cassette_load")
    n = 0
    for path in cassette_files():
        text = open(path, encoding="utf-8").read()
        head, items = split_cassette(text)
        if len(text) <= MAX_SEED:
            write(d, "seed-%s-whole.yaml" % stem(path), text)
            n += 1
        for k in range(4):
            i = (k * len(items)) // 4
            window = items[i:i + 3]
            if not window:
                continue
            body = head + "interactions:\n" + "".join(window) + "version: 1\n"
            write(d, "seed-%s-%03d.yaml" % (stem(path), i), body)
            n += 1
    write(d, "seed-data-secrets.yaml",
          open(os.path.join(ROOT, "tests", "data", "cassette", "secrets.yaml"), "rb").read())
    for name, text in CASSETTE_EDGES.items():
        write(d, "edge-" + name, text)
    return n + 1 + len(CASSETTE_EDGES)


# ---- the recorded cases, for template and mock_request ----------------------

def recorded_cases():
    """{case name: [interaction dicts]} over every shipped cassette."""
    out = {}
    for path in cassette_files():
        doc = yaml.load(open(path, encoding="utf-8"), Loader=yaml.CSafeLoader)
        for it in doc.get("interactions") or []:
            meta = it.get("ingestcheck") or {}
            out.setdefault(meta.get("case", "?"), []).append(it)
    return out


def response_text(it):
    body = it["response"].get("body")
    if isinstance(body, dict):
        body = body.get("string")
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return body or ""


def strings(node, out):
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, dict):
        for v in node.values():
            strings(v, out)
    elif isinstance(node, list):
        for v in node:
            strings(v, out)


# ---- template --------------------------------------------------------------

TEMPLATE_EDGES = {
    "now.txt": "{}\n{{now}}\n{{now - 1h}}\n{{ now+30m }}\n{{now - 999999999d}}\n{{now + 999999999d}}\n{{now * 2}}\n{{now-}}\n{{now - 1y}}\n{{nowx}}\n{{now - 1h}}Z{{now}}",
    "env.txt": "{}\n{{env.HOME}}\n{{env.XMISSING}}\n{{env.}}\n{{env.A-B}}\nx{{env.PATH}}y",
    "run-uuid.txt": "{}\n{{run.id}}\n{{uuid}}-{{uuid}}\n{{ uuid }}\n{{run.id}}{{run.id}}",
    "malformed.txt": "{}\n{{}}\n{{ }}\n{{a\n}}{{\n{{{{a}}}}\n{{a}}}}\n{{1a}}\n{{a.b}}\n{{" + "v" * 300 + "}}\n{{a}b}}",
    "vars.txt": "{\"k\":[1,{\"m\":\"v\"}]}\n{{a}}\n{{n}}\n{{obj}}\nx{{obj}}y\n{{loop}}\n{{big}}{{big}}{{big}}\n{{nope}}\nm=/k/1/m\n{{m}}\nk=$.k\n{{k}}-{{k}}",
    "pointers.txt": "{\"a/b\":{\"m~n\":[10,20,30]},\"\":{\"\":1},\"arr\":[0,1,2,3,4,5,6,7,8,9,10,11]}\n/a~1b/m~0n/2\n/a~1b/m~0n/02\n/arr/+1\n/arr/ 1\n/arr/-1\n/arr/4294967296\n/arr/18446744073709551617\n/arr/1e1\n/arr/\n/~2\n/~\n//\n/\n\n/a~1b/m~0n/-",
    "jsonpath.txt": "{\"tasks\":[{\"taskID\":\"t\"}],\"a b\":[1,2],\"q'\":{\"d\\\"\":3}}\n$\n$.tasks[0].taskID\n$['a b'][1]\n$[\"a b\"][0]\n$.tasks[4294967296]\n$.tasks[-1]\n$.tasks[+0]\n$.tasks[ 0]\n$..taskID\n$.\n$[\n$['x\n$.tasks[0]extra\n$[\"q'\"]['d\"']\n$.tasks.0",
    "headers-durations.txt": "{}\nheader:content-type\nheader:\nheader\n500ms\n2s\n1m\n1h\n0\n1000000000h\n99999999999h\n-1s\n1d\n10 s",
    "long-key.txt": "{\"" + "k" * 600 + "\":1}\n/" + "k" * 600 + "\n$." + "k" * 600 + "\n$['" + "k" * 600 + "']\n/" + "k" * 511 + "\n/" + "k" * 512,
    "nested.txt": "[" * 200 + "]" * 200 + "\n/0/0/0/0/0/0/0/0\n$[0][0][0][0]",
}


def template_seeds(cases_by_name):
    d = clean("template")
    n = 0
    for path in case_files():
        doc = yaml.load(open(path, encoding="utf-8"), Loader=yaml.CSafeLoader)
        for i, case in enumerate(doc.get("cases") or []):
            lines = []
            for name, value in (case.get("vars") or {}).items():
                lines.append(str(value))
            for step in (case.get("steps") or []) + (case.get("teardown") or []):
                for name, expr in (step.get("capture") or {}).items():
                    lines.append("%s=%s" % (name, expr))
                    lines.append(str(expr))
                found = []
                strings({k: v for k, v in step.items() if k != "capture"}, found)
                lines.extend(s for s in found if "{{" in s)
            lines = [l.replace("\n", " ") for l in dict.fromkeys(lines)][:60]
            if not lines:
                continue
            capture_doc = "{}"
            for it in cases_by_name.get(case.get("name"), []):
                body = response_text(it)
                if body.startswith("{") and it["response"]["status"]["code"] == 200:
                    try:
                        capture_doc = json.dumps(json.loads(body), separators=(",", ":"))
                    except ValueError:
                        continue
                    break
            write(d, "seed-%s-%02d.txt" % (stem(path), i), capture_doc + "\n" + "\n".join(lines))
            n += 1
    for name, text in TEMPLATE_EDGES.items():
        write(d, "edge-" + name, text)
    return n + len(TEMPLATE_EDGES)


# ---- mock_request ----------------------------------------------------------

MOCK_EDGES = {
    "wrong-key.txt": "GET /1/tasks\nx-algolia-api-key: wrong\n",
    "no-key.txt": "GET /1/tasks\nx-algolia-api-key:\n",
    "wrong-app.txt": "GET /1/tasks\nx-algolia-application-id: other\n",
    "unknown-path.txt": "GET /1/nothing\n%%\nGET /\n%%\nGET //1//tasks//\n%%\nGET /1/tasks/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r\n",
    "method-not-allowed.txt": "PUT /1/tasks\n%%\nget /1/tasks\n%%\nBREW /1/tasks/x\n",
    "too-large.txt": "POST /1/tasks\nx-fuzz-too-large: 1\n\n{}\n",
    "wrong-content-type.txt": "POST /1/authentications\ncontent-type: text/plain\n\n{\"type\":\"basic\",\"name\":\"n\",\"input\":{\"username\":\"u\",\"password\":\"p\"}}\n%%\nPOST /1/authentications\ncontent-type: application/jsonx\n\n{}\n%%\nPOST /1/authentications\ncontent-type:  application/json; charset=utf-8\n\n{}",
    "malformed-json.txt": "POST /1/tasks\n\n{\"sourceID\":\n%%\nPOST /1/tasks\n\n{\"a\":1} trailing\n%%\nPOST /1/tasks\n\n\xff\xfe\n%%\nPOST /1/tasks\n\n" + "[" * 600 + "]" * 600,
    "numbers.txt": "POST /1/tasks/search\n\n{\"taskIDs\":[1e400,-0,12345678901234567890]}\n%%\nGET /1/tasks?itemsPerPage=1e400&page=-1\n%%\nGET /1/tasks?itemsPerPage=0&page=0\n%%\nGET /1/tasks?itemsPerPage=101\n%%\nGET /1/tasks?itemsPerPage=2.5&page=nan\n%%\nGET /1/tasks?page=%20%201\n",
    "query-forms.txt": "GET /1/tasks?action=replace,save&action=append&enabled=true&enabled=false&sort=createdAt&order=asc\n%%\nGET /1/tasks?action=&action&=x&&&\n%%\nGET /1/tasks?sourceID=%zz&destinationID=%41%42\n%%\nGET /1/runs?status=finished,started&type=reindex&startDate=2024-04-17&endDate=2024-04-16T00:00:00Z\n%%\nGET /1/runs?startDate=2024-13-45T99:99:99Z\n",
    "many-args.txt": "GET /1/tasks?" + "&".join("action=replace" for _ in range(80)) + "\n%%\nGET /1/tasks?action=" + ",".join(["save"] * 1200) + "\n",
    "ids-flow.txt": "POST /1/authentications\n\n{\"type\":\"basic\",\"name\":\"a\",\"input\":{\"username\":\"u\",\"password\":\"p\"}}\n%%\nPOST /1/sources\n\n{\"type\":\"bigquery\",\"name\":\"s\",\"input\":{\"projectID\":\"p\",\"datasetID\":\"d\"},\"authenticationID\":\"$0\"}\n%%\nPOST /1/destinations\n\n{\"type\":\"search\",\"name\":\"d\",\"input\":{\"indexPrefix\":\"x_\"},\"authenticationID\":\"$0\"}\n%%\nPOST /1/tasks\n\n{\"sourceID\":\"$1\",\"destinationID\":\"$2\",\"trigger\":{\"type\":\"schedule\",\"cron\":\"*/5 1-3 * * 1,3\"},\"action\":\"replace\"}\n%%\nPOST /1/tasks/$3/run\n%%\nGET /1/runs?taskID=$3\n%%\nGET /1/runs/$4/events\n%%\nDELETE /1/authentications/$0\n%%\nPATCH /1/tasks/$3\n\n{\"trigger\":{\"cron\":\"61 * * * *\"}}\n%%\nPUT /1/tasks/$3/disable\n%%\nDELETE /1/sources/$1\n%%\nDELETE /1/tasks/$3\n%%\nDELETE /1/sources/$1\n",
    "path-odd.txt": "GET /1/tasks/%00\n%%\nGET /1/tasks/..%2F..\n%%\nGET /1/tasks/\xff\xfe\n%%\nGET /1/tasks/" + "x" * 3000 + "\n%%\nGET 1/tasks\n%%\nGET \n%%\n /1/tasks\n",
    "crlf.txt": "POST /1/tasks/search\r\ncontent-type: application/json\r\n\r\n{\"taskIDs\":[\"a\"]}",
    "empty-body-required.txt": "POST /1/tasks\n\n%%\nPATCH /1/tasks/x\n\n{}\n%%\nPOST /1/tasks/search\n\n{}\n",
    "cron-edge.txt": "POST /1/sources\n\n{\"type\":\"bigquery\",\"name\":\"s\",\"input\":{\"projectID\":\"p\",\"datasetID\":\"d\"}}\n%%\nPOST /1/destinations\n\n{\"type\":\"search\",\"name\":\"d\",\"input\":{\"indexPrefix\":\"x_\"}}\n%%\nPOST /1/tasks\n\n{\"sourceID\":\"$0\",\"destinationID\":\"$1\",\"trigger\":{\"type\":\"schedule\",\"cron\":\"0 0 31 2 *\"},\"action\":\"save\"}\n%%\nPOST /1/tasks\n\n{\"sourceID\":\"$0\",\"destinationID\":\"$1\",\"trigger\":{\"type\":\"schedule\",\"cron\":\"*/0 * * * *\"},\"action\":\"save\"}\n%%\nPOST /1/tasks\n\n{\"sourceID\":\"$0\",\"destinationID\":\"$1\",\"trigger\":{\"type\":\"schedule\",\"cron\":\"59-0/7 23 1-31/30 12 0-6\"},\"action\":\"save\"}\n",
}

# IDs of earlier answers, as the fuzz target collects them (top-level string
# members named *ID of each 200 answer, in order, at most 10).
MAX_IDS = 10


def answer_ids(it):
    if it["response"]["status"]["code"] != 200:
        return []
    try:
        doc = json.loads(response_text(it))
    except ValueError:
        return []
    if not isinstance(doc, dict):
        return []
    return [v for k, v in doc.items() if k.endswith("ID") and isinstance(v, str)]


def request_text(it, ids):
    req = it["request"]
    uri = urllib.parse.urlsplit(req["uri"])
    path = urllib.parse.unquote(uri.path)
    target = path + ("?" + uri.query if uri.query else "")
    body = req.get("body")
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    for i, v in enumerate(ids):
        target = target.replace(v, "$%d" % i)
        if body:
            body = body.replace(v, "$%d" % i)
    text = "%s %s\n" % (req["method"], target)
    if body:
        text += "content-type: application/json\n\n" + body
    return text


def mock_seeds(cases_by_name):
    d = clean("mock_request")
    n = 0
    for k, (name, items) in enumerate(sorted(cases_by_name.items())):
        ids, parts = [], []
        for it in items[:32]:
            parts.append(request_text(it, ids))
            for v in answer_ids(it):
                if len(ids) < MAX_IDS:
                    ids.append(v)
        safe = "".join(ch if ch.isalnum() else "-" for ch in name)[:60].strip("-")
        write(d, "seed-%02d-%s.txt" % (k, safe), "\n%%\n".join(parts))
        n += 1
    for name, text in MOCK_EDGES.items():
        write(d, "edge-" + name, text.encode("utf-8", "surrogateescape") if "\xff" not in text
              else text.encode("latin-1"))
    return n + len(MOCK_EDGES)


def main():
    recorded = recorded_cases()
    counts = {
        "case_load": case_seeds(),
        "cassette_load": cassette_seeds(),
        "template": template_seeds(recorded),
        "mock_request": mock_seeds(recorded),
    }
    for t, c in counts.items():
        print("%-14s %d seeds" % (t, c))


if __name__ == "__main__":
    sys.exit(main())
