#!/usr/bin/python3
"""Proves that vcrpy reads ingestcheck cassettes: writes one with every
awkward string we know (cassette_tool compat), loads it with Debian's
python3-vcr deserializer exactly as vcrpy's FilesystemPersister does, and
compares each interaction field by field with what our own loader read.
Exit 77 (skip) when python3-vcr is not installed."""
import base64
import json
import os
import subprocess
import sys
import tempfile

try:
    from vcr.serializers import yamlserializer
    from vcr.serialize import deserialize
except ImportError:
    print("python3-vcr is not installed: skipping")
    sys.exit(77)


def as_bytes(v):
    if v is None:
        return None
    return v if isinstance(v, bytes) else v.encode("utf-8")


def compare(name, requests, responses, expected, failures):
    """Appends to failures every difference between what vcrpy read and
    what ingestcheck's loader read."""
    if len(requests) != len(expected):
        failures.append(f"{name}: vcrpy read {len(requests)} interactions, "
                        f"expected {len(expected)}")
        return
    for i, (rq, rs, ex) in enumerate(zip(requests, responses, expected)):
        def check(what, got, want):
            if got != want:
                failures.append(f"{name}: interaction {i}: {what}: vcrpy {got!r}, "
                                f"expected {want!r}")
        check("method", rq.method, ex["method"])
        check("uri", rq.uri, ex["uri"])
        want_body = None if ex["body_b64"] is None else base64.b64decode(ex["body_b64"])
        check("request body", as_bytes(rq.body), want_body)
        for name, values in ex["headers"].items():
            # vcrpy keeps the first value of a request header.
            check(f"request header {name}", rq.headers.get(name), values[0])
        check("request header names", sorted(k.lower() for k in rq.headers.keys()),
              sorted(k.lower() for k in ex["headers"].keys()))
        check("status code", rs["status"]["code"], ex["status"])
        check("status message", rs["status"]["message"], ex["message"])
        check("response headers", rs["headers"], ex["response_headers"])
        check("response body", as_bytes(rs["body"]["string"]),
              base64.b64decode(ex["response_body_b64"]))


def load(d, tool, wrap, cassette, expected_json):
    """vcrpy's reading of cassette, and ours (through cassette_tool)."""
    subprocess.run(wrap + [tool, "expected", cassette, expected_json], check=True)
    # FilesystemPersister.load_cassette: open() in text mode, read().
    with open(cassette) as f:
        text = f.read()
    requests, responses = deserialize(text, yamlserializer)
    with open(expected_json) as f:
        expected = json.load(f)
    return requests, responses, expected


def main():
    tool = sys.argv[1]
    failures = []
    total = 0
    with tempfile.TemporaryDirectory() as d:
        wrap = []
        if os.environ.get("INGESTCHECK_UNDER_VALGRIND"):
            wrap = ["valgrind", "--error-exitcode=99", "--leak-check=full",
                    "--errors-for-leak-kinds=definite,indirect", "-q"]
        subprocess.run(wrap + [tool, "compat", d], check=True)
        cassettes = [os.path.join(d, "compat.yaml")]
        # Every cassette the project ships (cases/cassettes).
        shipped = os.path.join(os.environ.get("INGESTCHECK_SOURCE_DIR", "."), "cases",
                               "cassettes")
        if os.path.isdir(shipped):
            cassettes += sorted(os.path.join(shipped, n) for n in os.listdir(shipped)
                                if n.endswith(".yaml"))
        for i, c in enumerate(cassettes):
            rq, rs, ex = load(d, tool, wrap, c, os.path.join(d, f"expected-{i}.json"))
            compare(os.path.basename(c), rq, rs, ex, failures)
            total += len(rq)
    for f in failures:
        print(f)
    print(f"{len(cassettes)} cassettes, {total} interactions read back by vcrpy, "
          f"{len(failures)} differences")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
