#!/usr/bin/python3
"""Writes tests/fuzz/corpus/results_read/: the results.json of small runs
of INGESTCHECK (seed-*, each with its digest) and edited ones (edge-*).

Usage: tests/fuzz/make_results_seeds.py BUILD/src/cli/ingestcheck
(from the source root). Runs against the embedded mock and the shipped
cassettes; other files of the directory (regress-*, merged units) are left
alone.

A seed edited on purpose is digested again here (seal) the way
report_write digests results.json: SHA-256 of the file with the 64 hex
digits of its last member "digest": "sha256:..." read as '0'. The edge-*
files not sealed are the tampered ones merge must refuse."""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

OUT = "tests/fuzz/corpus/results_read"
# The corpus driver skips inputs over FUZZ_MAX_INPUT (256 KiB).
MAX_INPUT = 256 * 1024
DIGEST = re.compile(rb'"sha256:([0-9a-f]{64})"\s*}\s*$')


def seal(text):
    """text (bytes) with its digest recomputed."""
    m = DIGEST.search(text)
    assert m, "no digest at the end"
    zeroed = text[: m.start(1)] + b"0" * 64 + text[m.end(1) :]
    return text[: m.start(1)] + hashlib.sha256(zeroed).hexdigest().encode() + text[m.end(1) :]


def dump(doc):
    """doc as ingestcheck writes it (two-space indent), sealed."""
    return seal(json.dumps(doc, indent=2, ensure_ascii=False).encode() + b"\n")


def run(binary, tmp, name, args, live=True):
    """results.json of `ingestcheck run ARGS` into tmp/name (live: with a
    fixed run ID and credentials; a replay takes the cassettes' own)."""
    reports = os.path.join(tmp, name)
    ids = ["--run-id", "r1", "--app-id", "A", "--api-key", "K"] if live else []
    subprocess.run([binary, "run", "--quiet", "--no-color", "--reports", reports] + ids + args,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    with open(os.path.join(reports, "results.json"), "rb") as f:
        return f.read()


def write(name, data):
    assert len(data) <= MAX_INPUT, f"{name}: {len(data)} bytes, over the fuzzer's input cap"
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        smoke = run(binary, tmp, "smoke", ["cases/smoke.yaml"])
        seeds = {
            "seed-smoke.json": smoke,
            "seed-replay-cassettes.json": run(binary, tmp, "replay", ["--replay", "cases/smoke.yaml"],
                                              live=False),
            "seed-target-error.json": run(binary, tmp, "down", ["--base-url", "http://127.0.0.1:9",
                                                                "cases/smoke.yaml"]),
            "seed-shard-1-of-1.json": run(binary, tmp, "s1", ["--shard", "1/1", "cases/smoke.yaml"]),
            "seed-shard-3-of-30.json": run(binary, tmp, "s3", ["--shard", "3/30", "cases/"]),
            "seed-empty-shard.json": run(binary, tmp, "s5", ["--shard", "5/40", "cases/smoke.yaml"]),
        }
    for name, data in seeds.items():
        write(name, data)
    doc = json.loads(smoke)

    # The last case not run, interrupted by SIGINT, as `run` writes it.
    cut = json.loads(smoke)
    k = cut["cases"][-1]
    k.update(outcome="skipped", message="not run: interrupted", steps=[], interrupted=True)
    cut["interrupted"] = True
    write("seed-interrupted.json", dump(cut))

    # Tampered: merge refuses them for their digest.
    write("edge-edited-name.json", smoke.replace(b"smoke - create", b"smoke - Create", 1))
    write("edge-edited-outcome.json", smoke.replace(b'"outcome":  "passed"', b'"outcome":  "failed"', 1))
    write("edge-truncated.json", smoke[:700])
    old = dict(doc)
    del old["digest"]
    write("edge-no-digest.json", json.dumps(old).encode())
    moved = {"digest": doc["digest"]}
    moved.update(old)
    write("edge-digest-not-last.json", json.dumps(moved).encode())
    write("edge-digest-upper-case.json", smoke[: DIGEST.search(smoke).start(1)] +
          DIGEST.search(smoke).group(1).upper() + b'"\n}\n')

    # Sealed again: the reader behind the digest judges them.
    bad = json.loads(smoke)
    bad["cases"][0]["steps"][0]["checks"][0]["outcome"] = 7
    write("edge-check-outcome-number.json", dump(bad))
    bad = json.loads(seeds["seed-shard-1-of-1.json"])
    bad["cases"][0]["index"] = 3
    write("edge-index-beyond-plan.json", dump(bad))
    # Past the fuzz target's small caps (name 80, text 2048, 4 cases, 6
    # steps) and, for the name, past a real one when the target's caps are
    # the defaults: the reader refuses with UTIL_ERR_LIMIT.
    bad = json.loads(smoke)
    bad["cases"][0]["name"] = "n" * 100
    write("edge-cap-name.json", dump(bad))
    bad = json.loads(smoke)
    bad["cases"][0]["message"] = "m" * 3000
    write("edge-cap-text.json", dump(bad))
    bad = json.loads(smoke)
    steps = bad["cases"][0]["steps"]
    bad["cases"][0]["steps"] = steps + steps[:2]
    write("edge-cap-steps.json", dump(bad))
    bad = json.loads(seeds["seed-shard-1-of-1.json"])
    bad["cases"] = [dict(bad["cases"][0], index=i, steps=[]) for i in range(5)]
    bad["shard"]["planned"] = 5
    write("edge-cap-cases.json", dump(bad))


if __name__ == "__main__":
    main()
