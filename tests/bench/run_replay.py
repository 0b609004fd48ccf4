#!/usr/bin/env python3
"""Helper of tests/bench/run: the request list of a results.json as a curl
config, the statistics of a run, the callgrind share of the checks, and the
final summary.

  run_replay.py curlcfg RESULTS BASE_URL API_KEY BAD_KEY CONFIG EXPECTED
  run_replay.py stats RESULTS [STDOUT]     (key=value lines; STDOUT: the
                                           run's console, with --timings)
  run_replay.py callgrind PROFILE...       (key=value lines; PROFILE: each
                                           thread's callgrind.out, main first)
  run_replay.py probe RESULTS|-            (the probe's ID and createdAt, from the
                                           reference run or from curl's answer)
  run_replay.py summary MEASUREMENTS       (the report's figures)

The request list is every step's recorded request in results.json order
(cases in order, steps then teardown), each sent `attempts` times: the
runner records only the last attempt of a polling step, and every attempt
of a step sends the same request. Steps that sent nothing (skipped after a
failure) have no request and are left out.

Masked values: results.json masks the API key ("****") whether it was the
right one, a wrong one or empty. The right key is put back unless the
recorded answer was a 403 with the right application ID (or none), in which
case BAD_KEY is sent instead; the replay checks that every status is the
recorded one, so a wrong guess shows. Masked secrets inside bodies
(authentication inputs) are sent as the mask itself: the mock accepts any
string there, and the statuses are checked.
"""
import json
import re
import statistics
import subprocess
import sys

MASK = "****"
# The case the reference run ends with (tests/bench/run); not replayed.
PROBE_CASE = "bench probe"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def steps(doc):
    for case in doc.get("cases") or []:
        if case.get("name") == PROBE_CASE:
            continue
        for step in case.get("steps") or []:
            yield case, step


def probe(source):
    if source == "-":
        body = json.load(sys.stdin)
    else:
        body = None
        for case in load(source).get("cases") or []:
            if case.get("name") == PROBE_CASE:
                body = ((case.get("steps") or [{}])[0].get("response") or {}).get("body")
    body = body or {}
    print(f"{body.get('authenticationID')} {body.get('createdAt')}")


def sent(step):
    r = step.get("request") or {}
    return bool(r.get("method") and r.get("url"))


def quote(s):
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\v":
            out.append("\\v")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def curlcfg(results, base_url, api_key, bad_key, config, expected):
    doc = load(results)
    old = (doc.get("base_url") or "").rstrip("/")
    base_url = base_url.rstrip("/")
    app_id = None
    # The configured application ID: the most common one sent.
    counts = {}
    for _, step in steps(doc):
        if sent(step):
            a = (step["request"].get("headers") or {}).get("x-algolia-application-id")
            if a is not None:
                counts[a] = counts.get(a, 0) + 1
    if counts:
        app_id = max(counts, key=counts.get)
    n = 0
    with open(config, "w", encoding="utf-8") as cfg, open(expected, "w") as exp:
        for _, step in steps(doc):
            if not sent(step):
                continue
            r = step["request"]
            status = (step.get("response") or {}).get("status")
            url = r["url"]
            if old and url.startswith(old):
                url = base_url + url[len(old):]
            headers = dict(r.get("headers") or {})
            lower = {k.lower(): k for k in headers}
            if "x-algolia-api-key" in lower and headers[lower["x-algolia-api-key"]] == MASK:
                k = lower["x-algolia-api-key"]
                app = headers.get(lower.get("x-algolia-application-id", ""), app_id)
                refused = status == 403 and app == app_id
                headers[k] = bad_key if refused else api_key
            body = None
            if "body_raw" in r and r["body_raw"] is not None:
                body = r["body_raw"]
            elif "body" in r:
                body = json.dumps(r["body"], separators=(",", ":"), ensure_ascii=False)
            # Every option in each block: curl resets per-transfer ones at
            # `next`.
            block = [
                "http1.1",
                "silent",
                "globoff",
                "path-as-is",
                'output = "/dev/null"',
                'write-out = "%{http_code} %{num_connects}\\n"',
                "request = " + quote(r["method"]),
                "url = " + quote(url),
                # curl's own defaults, absent from the runner's requests
                'header = "User-Agent:"',
                'header = "Expect:"',
            ]
            if "accept" not in lower:
                block.append('header = "Accept:"')
            if body is not None and "content-type" not in lower:
                block.append('header = "Content-Type:"')
            for k, v in headers.items():
                block.append("header = " + quote(f"{k}: {v}" if v != "" else f"{k};"))
            if body is not None:
                block.append("data-binary = " + quote(body))
            attempts = max(1, int(step.get("attempts") or 1))
            for i in range(attempts):
                if n:
                    cfg.write("next\n")
                cfg.write("\n".join(block) + "\n")
                # Only the last attempt's answer is recorded; the earlier
                # ones of a polling step may be anything.
                exp.write(f"{status}\n" if i == attempts - 1 else "-\n")
                n += 1
    print(n)


# The --timings line of `ingestcheck run` (src/cli/cmd_run.c).
TIMINGS = re.compile(
    r"timings: loading cases ([0-9.]+) ms, schemas ([0-9.]+) ms, target ([0-9.]+) ms; "
    r"running ([0-9.]+) ms \(waiting on the target ([0-9.]+) ms, sleeping between polls "
    r"([0-9.]+) ms; the target's clock moved ([0-9.]+) ms\); reports ([0-9.]+) ms")


def stats(results, console=None):
    doc = load(results)
    polls = []
    nsteps = requests = 0
    for _, step in steps(doc):
        if not sent(step):
            continue
        nsteps += 1
        a = max(1, int(step.get("attempts") or 1))
        requests += a
        if a > 1:
            polls.append(a)
    s = doc.get("summary") or {}
    out = {
        "cases": s.get("cases", 0),
        "passed": s.get("passed", 0),
        "failed": s.get("failed", 0),
        "skipped": s.get("skipped", 0),
        "errors": s.get("errors", 0),
        "checks": s.get("checks", 0),
        "gaps": s.get("gaps", 0),
        "steps_sent": nsteps,
        "requests": requests,
        "poll_steps": len(polls),
        "poll_extra": sum(a - 1 for a in polls),
    }
    for k in ("elapsed_ms", "transport_ms", "poll_sleep_ms", "clock_advanced_ms"):
        out[k] = f"{float(doc.get(k) or 0.0):.3f}"
    if console:
        with open(console, encoding="utf-8", errors="replace") as f:
            m = TIMINGS.search(f.read())
        if m:
            for k, v in zip(("load_cases_ms", "load_schemas_ms", "start_target_ms"), m.groups()[:3]):
                out[k] = v
            out["reports_ms"] = m.group(8)
    for k, v in out.items():
        print(f"{k}={v}")


# The checks, as the runner calls them (src/run/exec.c): the contract
# (operation, status, content type, JSON parse, schema) and the case's
# expectations (also called by until: conditions). Neither calls the other.
CHECK_FUNCS = ("check_contract_response", "check_expect")
# Where the instructions go, inclusive, summed over the threads: each part
# is its entry function on the main thread and on the threads it starts.
PARTS = {
    "load": ("case_suite_load", "load_worker"),
    "schemas": ("check_contract_create", "contract_load"),
    "mock_start": ("mock_server_create",),
    "execute": ("run_execute",),
    "transport": ("curl_send",),
    "scrub": ("check_secrets_scrub",),
    "redact": ("check_redact_json",),
    "reports": ("report_write", "write_cases", "write_junit"),
}


def annotate(profile):
    """Inclusive instructions by function name, and the profile's total."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", profile],
                         capture_output=True, text=True, errors="replace").stdout
    total, found = 0, {}
    for line in out.splitlines():
        parts = line.split()
        if not parts:
            continue
        num = parts[0].replace(",", "")
        if not num.isdigit():
            continue
        if "PROGRAM TOTALS" in line:
            total = int(num)
            continue
        for p in parts[1:]:
            # "src/check/expect.c:check_expect [/path]", recursion as "f'2"
            name = p.rsplit(":", 1)[-1]
            if "'" in name or name.startswith("["):
                continue
            found[name] = max(found.get(name, 0), int(num))
    return total, found


def callgrind(main, *others):
    total, m = annotate(main)
    every = total
    parts = {k: m.get(fns[0], 0) for k, fns in PARTS.items()}
    parts["mock_threads"] = 0
    for prof in others:
        t, f = annotate(prof)
        every += t
        for k, fns in PARTS.items():
            # on a started thread, its entry function (what the main thread
            # calls itself is in the main thread's figure already)
            parts[k] += max((f.get(fn, 0) for fn in fns[1:]), default=0)
        if "mock_handle" in f:  # a libmicrohttpd thread of the embedded mock
            parts["mock_threads"] += t
    print(f"total_ir={every}")
    print(f"main_ir={total}")
    for fn in CHECK_FUNCS:
        print(f"{fn}_ir={m.get(fn, 0)}")
    for k, v in parts.items():
        print(f"part_{k}_ir={v}")


def fmt_ms(x):
    return f"{x:8.1f} ms"


def summary(path):
    rows = {}
    kv = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if not p:
                continue
            if p[0] == "kv":
                kv[p[1]] = " ".join(p[2:])
            else:
                rows.setdefault(p[0], []).append([float(x) for x in p[2:]])

    def med(kind, col):
        return statistics.median(r[col] for r in rows[kind])

    def spread(kind, col):
        v = [r[col] for r in rows[kind]]
        m = statistics.median(v)
        return (max(v) - min(v)) / m * 100 if m else 0.0

    req = int(kv["requests"])
    n = len(rows["run"])
    run_w, curl_w = med("run", 0), med("curl", 0)
    run_cpu = med("run", 1) + med("run", 2)
    curl_cpu = med("curl", 1) + med("curl", 2)
    # run columns: wall user sys elapsed transport poll_sleep cases schemas target reports
    inner, transport, slept = med("run", 3), med("run", 4), med("run", 5)
    cases, schemas, target, reports = (med("run", c) for c in (6, 7, 8, 9))
    startup = cases + schemas + target
    own = inner - transport - slept
    rest = run_w - startup - inner - reports
    print(f"timed runs: {n} of each, alternating; curl against a fresh `serve --seed 1` each time")
    print(f"                       median     min        max        spread  CPU (user+sys)")
    for kind, label in (("run", "ingestcheck run"), ("curl", "curl replay")):
        v = [r[0] for r in rows[kind]]
        cpu = med(kind, 1) + med(kind, 2)
        print(f"  {label:<18} {fmt_ms(med(kind, 0))} {fmt_ms(min(v))} {fmt_ms(max(v))} "
              f"{spread(kind, 0):5.1f}%  {fmt_ms(cpu)}")
    ratio = run_w / curl_w if curl_w else float("nan")
    print(f"requests: {req} ({kv['poll_extra']} of them repeated attempts of {kv['poll_steps']} "
          f"until: steps)")
    print(f"ratio run/curl: {ratio:.2f}x (goal <= 1.3x); of the minimums "
          f"{min(r[0] for r in rows['run']) / min(r[0] for r in rows['curl']):.2f}x")
    print(f"per-request overhead (run - curl) / requests: {(run_w - curl_w) / req * 1000:.1f} us")
    print("where the runner's time goes (medians of its --timings line):")
    print(f"  startup                      {fmt_ms(startup)}  (loading cases {cases:.1f}, "
          f"then waiting for the schemas {schemas:.1f} (they load alongside), starting the "
          f"embedded mock {target:.1f})")
    print(f"  running the cases            {fmt_ms(inner)}")
    print(f"    waiting on the target      {fmt_ms(transport)}  (inside the transport: the mock "
          f"answering, loopback, libcurl)")
    print(f"    sleeping between polls     {fmt_ms(slept)}")
    print(f"    the runner's own work      {fmt_ms(own)}  ({own / req * 1000:.1f} us/request: "
          f"requests, checks, captures, results)")
    print(f"  writing the reports          {fmt_ms(reports)}")
    print(f"  process start and exit       {fmt_ms(rest)}  (wall - the above)")
    print(f"CPU per request: runner {run_cpu / req * 1000:.1f} us (with its in-process mock), "
          f"curl {curl_cpu / req * 1000:.1f} us (the served mock's CPU not counted)")
    tot = int(kv.get("total_ir", 0))
    user = med("run", 1)
    if tot:
        cr = int(kv.get("check_contract_response_ir", 0))
        ce = int(kv.get("check_expect_ir", 0))
        main = int(kv.get("main_ir", 0))
        us = lambda ir: ir / tot * user * 1000 / req
        print(f"check cost (callgrind of the whole process, every thread, x the median user CPU "
              f"{user:.1f} ms; the runner's main thread {main / tot * 100:.1f}% of the "
              f"instructions):")
        print(f"  contract (match, status, content type, JSON parse, schema): "
              f"{cr / tot * 100:5.1f}% ~ {us(cr):.1f} us/request")
        print(f"  expectations (expect: and until:):                           "
              f"{ce / tot * 100:5.1f}% ~ {us(ce):.1f} us/request")
        print(f"  checks in all: {(cr + ce) / tot * 100:.1f}% of the instructions "
              f"~ {us(cr + ce):.1f} us/request")
        print("where the instructions go (inclusive, summed over threads; CPU, not wall time):")
        labels = (("load", "loading the case files"),
                  ("schemas", "loading the schemas"),
                  ("mock_start", "starting the embedded mock"),
                  ("execute", "executing the cases"),
                  ("transport", "  of which transport (libcurl)"),
                  ("scrub", "  of which masking secrets in text"),
                  ("redact", "  of which redacting JSON"),
                  ("reports", "writing junit.xml and results.json"),
                  ("mock_threads", "the embedded mock's threads (answering)"))
        for k, label in labels:
            ir = int(kv.get(f"part_{k}_ir", 0))
            print(f"  {label:<38} {ir / tot * 100:5.1f}% ~ {ir / tot * user:6.1f} ms")
    else:
        print(f"check cost: {kv.get('callgrind_note', 'not measured')}")
    print(f"noise: {kv['cores']} cores, load average {kv.get('load_before', '?')} before and "
          f"{kv.get('load_after', '?')} after; the mock, the client and everything else share "
          f"them; spreads above are (max - min) / median")
    try:
        if float(kv.get("load_after", "0")) > float(kv["cores"]) - 0.5:
            print("  WARNING: the machine was busy; the medians are unreliable, the minimums less so")
    except ValueError:
        pass


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "curlcfg" and len(args) == 6:
        curlcfg(*args)
    elif cmd == "stats" and len(args) in (1, 2):
        stats(*args)
    elif cmd == "callgrind" and len(args) >= 1 and args[0] != "-":
        callgrind(*args)
    elif cmd == "probe" and len(args) == 1:
        probe(*args)
    elif cmd == "summary" and len(args) == 1:
        summary(*args)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
