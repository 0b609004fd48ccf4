#!/usr/bin/env python3
"""Helper of tests/bench/run: the request list of a results.json as a curl
config, the statistics of a run, the callgrind share of the checks, and the
final summary.

  run_replay.py curlcfg RESULTS BASE_URL API_KEY BAD_KEY CONFIG EXPECTED
  run_replay.py stats RESULTS              (key=value lines)
  run_replay.py callgrind ANNOTATE_OUTPUT  (key=value lines)
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
import statistics
import sys

MASK = "****"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def steps(doc):
    for case in doc.get("cases") or []:
        for step in case.get("steps") or []:
            yield case, step


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


def stats(results):
    doc = load(results)
    single = []
    polls = []
    nsteps = requests = 0
    for _, step in steps(doc):
        if not sent(step):
            continue
        nsteps += 1
        a = max(1, int(step.get("attempts") or 1))
        requests += a
        ms = float(step.get("elapsed_ms") or 0.0)
        if a == 1:
            single.append(ms)
        else:
            polls.append((a, ms))
    per = statistics.median(single) if single else 0.0
    # The runner sleeps the step's interval between attempts; what a step
    # took beyond `attempts` ordinary requests is that sleep.
    wait = sum(max(0.0, ms - a * per) for a, ms in polls)
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
        "poll_extra": sum(a - 1 for a, _ in polls),
        "poll_wait_ms": f"{wait:.3f}",
        "step_median_ms": f"{per:.4f}",
        "elapsed_ms": f"{float(doc.get('elapsed_ms') or 0.0):.3f}",
    }
    for k, v in out.items():
        print(f"{k}={v}")


# The checks, as the runner calls them (src/run/exec.c): the contract
# (operation, status, content type, JSON parse, schema) and the case's
# expectations (also called by until: conditions). Neither calls the other.
CHECK_FUNCS = ("check_contract_response", "check_expect")
# Where the rest of the runner's instructions go (inclusive, may overlap:
# run_execute holds curl_send and the checks).
PART_FUNCS = ("case_suite_load", "check_contract_create", "run_execute", "curl_send",
              "check_redact_json", "check_secrets_scrub", "report_write")


def callgrind(path):
    total = None
    found = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            num = parts[0].replace(",", "")
            if "PROGRAM TOTALS" in line and num.isdigit():
                total = int(num)
                continue
            if not num.isdigit():
                continue
            for fn in CHECK_FUNCS + PART_FUNCS:
                # "  1,234 (12.3%)  src/check/expect.c:check_expect [/path]"
                if any(p == fn or p.endswith(":" + fn) for p in parts):
                    found[fn] = max(found.get(fn, 0), int(num))
    print(f"total_ir={total or 0}")
    for fn in CHECK_FUNCS + PART_FUNCS:
        print(f"{fn}_ir={found.get(fn, 0)}")


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
    wait = med("run", 4)
    inner = med("run", 3)
    print(f"timed runs: {n} of each, alternating, each against a fresh mock (seed 1)")
    print(f"                       median     min        max        spread  CPU (user+sys)")
    for kind, label in (("run", "ingestcheck run"), ("curl", "curl replay")):
        v = [r[0] for r in rows[kind]]
        cpu = med(kind, 1) + med(kind, 2)
        print(f"  {label:<18} {fmt_ms(med(kind, 0))} {fmt_ms(min(v))} {fmt_ms(max(v))} "
              f"{spread(kind, 0):5.1f}%  {fmt_ms(cpu)}")
    print(f"  runner's own elapsed_ms (results.json, cases only): {inner:.1f} ms; "
          f"startup + loading + reports ~ {run_w - inner:.1f} ms")
    ratio = run_w / curl_w if curl_w else float("nan")
    print(f"requests: {req}")
    print(f"ratio run/curl: {ratio:.2f}x (goal <= 1.3x); of the minimums "
          f"{min(r[0] for r in rows['run']) / min(r[0] for r in rows['curl']):.2f}x")
    print(f"per-request overhead (run - curl) / requests: {(run_w - curl_w) / req * 1000:.1f} us")
    print(f"polling: the runner slept ~{wait:.1f} ms between the {kv['poll_extra']} extra attempts "
          f"of {kv['poll_steps']} until: steps (curl replays those attempts back to back)")
    nw = run_w - wait
    print(f"  without the poll sleeps: run ~{nw:.1f} ms, ratio {nw / curl_w:.2f}x, "
          f"overhead {(nw - curl_w) / req * 1000:.1f} us/request")
    print(f"CPU per request: runner {run_cpu / req * 1000:.1f} us, curl {curl_cpu / req * 1000:.1f} us "
          f"(the mock's CPU is in neither)")
    tot = int(kv.get("total_ir", 0))
    if tot:
        cr = int(kv.get("check_contract_response_ir", 0))
        ce = int(kv.get("check_expect_ir", 0))
        user = med("run", 1)
        us = lambda ir: ir / tot * user * 1000 / req
        print(f"check cost (callgrind, inclusive instructions x median runner user CPU {user:.1f} ms):")
        print(f"  contract (match, status, content type, JSON parse, schema): "
              f"{cr / tot * 100:5.1f}% ~ {us(cr):.1f} us/request")
        print(f"  expectations (expect: and until:):                           "
              f"{ce / tot * 100:5.1f}% ~ {us(ce):.1f} us/request")
        print(f"  checks in all: {(cr + ce) / tot * 100:.1f}% of the runner's instructions "
              f"~ {us(cr + ce):.1f} us/request")
        print("where the runner's instructions go (inclusive; execution holds transport and checks):")
        labels = (("case_suite_load", "loading the case files"),
                  ("check_contract_create", "loading the schemas"),
                  ("run_execute", "executing the cases"),
                  ("curl_send", "  of which transport (libcurl)"),
                  ("check_secrets_scrub", "  of which masking secrets in text"),
                  ("check_redact_json", "  of which redacting JSON"),
                  ("report_write", "writing junit.xml and results.json"))
        for fn, label in labels:
            ir = int(kv.get(fn + "_ir", 0))
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
    elif cmd == "stats" and len(args) == 1:
        stats(*args)
    elif cmd == "callgrind" and len(args) == 1:
        callgrind(*args)
    elif cmd == "summary" and len(args) == 1:
        summary(*args)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
