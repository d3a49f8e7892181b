#!/usr/bin/env python3
"""Policy bundles from the command line: `clause bundle build` and `verify`, and every way a
bundle from outside can be wrong — another key, a changed or extra file, a truncated or
corrupt archive, a path that leaves the bundle, an archive that unpacks past its bound —
each refused with its reason.

usage: check_bundle.py CLAUSE"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bundle_archive import entries_of, repack  # noqa: E402

clause = os.path.abspath(sys.argv[1])
root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(name)


def run(*args, cwd=None):
    return subprocess.run([clause, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


work = tempfile.mkdtemp(prefix="clause-bundle-")
try:
    # The to-do policy, its two documents and its tests, copied so that paths are short.
    src = os.path.join(root, "tests", "documents")
    shutil.copy(os.path.join(src, "todo.policy"), work)
    shutil.copy(os.path.join(src, "todo.test"), work)
    shutil.copytree(os.path.join(src, "todo"), os.path.join(work, "todo"))
    shutil.copytree(os.path.join(src, "search"), os.path.join(work, "search"))
    for who in ("signer", "other"):
        openssl("genpkey", "-algorithm", "ed25519", "-out", f"{work}/{who}.pem")
        openssl("pkey", "-in", f"{work}/{who}.pem", "-pubout", "-out", f"{work}/{who}.pub.pem")
    signer, signer_pub, other_pub = (f"{work}/signer.pem", f"{work}/signer.pub.pem",
                                     f"{work}/other.pub.pem")

    built = run("bundle", "build", "--key", signer, "--output", f"{work}/todo.bundle.tar.gz",
                f"{work}/todo.policy", f"{work}/todo.test")
    check("build", built.returncode == 0, built.stderr)
    check("build says what it packed", "4 files" in built.stdout, built.stdout)
    again = run("bundle", "build", "--key", signer, "--output", f"{work}/again.tar.gz",
                f"{work}/todo.policy", f"{work}/todo.test")
    with open(f"{work}/todo.bundle.tar.gz", "rb") as a, open(f"{work}/again.tar.gz", "rb") as b:
        good = a.read()
        check("the same input gives the same bytes", again.returncode == 0 and good == b.read())

    verified = run("bundle", "verify", "--key", signer_pub, "--format", "json",
                   f"{work}/todo.bundle.tar.gz")
    check("verify", verified.returncode == 0, verified.stderr)
    manifest = json.loads(verified.stdout) if verified.returncode == 0 else {}
    check("the manifest lists the policy, its documents and its tests",
          [f["path"] for f in manifest.get("files", [])] ==
          ["search/records.json", "todo.policy", "todo.test", "todo/users.json"],
          verified.stdout)
    check("the manifest carries the policy's content hash",
          manifest.get("content_hash", "").startswith("sha256:"))
    check("a private key verifies as its public half",
          run("bundle", "verify", "--key", signer, f"{work}/todo.bundle.tar.gz").returncode == 0)

    def refused(name, data, reason, key=signer_pub):
        path = f"{work}/{name}.tar.gz"
        with open(path, "wb") as f:
            f.write(data)
        r = run("bundle", "verify", "--key", key, path)
        check(f"refused: {name}", r.returncode == 1 and "refused" in r.stderr and reason in r.stderr,
              f"exit {r.returncode}: {r.stderr.strip()}")

    refused("another-key", good, "the signature does not match the key", key=other_pub)
    refused("truncated", good[: len(good) // 2], "truncated")
    corrupt = bytearray(good)
    corrupt[len(corrupt) // 2] ^= 0xFF
    refused("corrupt", bytes(corrupt), "the archive")
    refused("not-gzip", b"policy \"x\" version \"1\"\n", "gzip")

    entries = entries_of(good)
    changed = [(n, d.replace(b"Editors may edit", b"Anyone may edit")
                if n == "todo.policy" else d) for n, d in entries]
    refused("changed-file", repack(changed), "does not match its hash")
    refused("extra-file", repack(entries + [("extra.json", b"{}")]), "the manifest lists")
    refused("escaping-path", repack(entries[:2] + [("../escape.policy", b"x")] + entries[3:]),
            "a path a bundle cannot hold")
    refused("no-signature", repack([entries[0]] + entries[2:]), "does not begin with")
    # Past its bound an archive is refused while it unpacks, whatever its size packed.
    bomb = repack(entries[:2] + [("big.json", b"\0" * (300 << 20))])
    refused("unpacks-too-large", bomb, "unpacks to more than")

    # A policy that does not compile, or does not give the manifest's hash: a key holder's
    # mistake, caught before any replica would decide with it.
    with open(f"{work}/todo.policy", "a") as f:
        f.write("allow read of nothing_declared\n")
    broken = run("bundle", "build", "--key", signer, "--output", f"{work}/broken.tar.gz",
                 f"{work}/todo.policy")
    check("build refuses a policy with errors", broken.returncode == 1 and "error" in broken.stderr,
          broken.stderr)
    usage = run("bundle", "build", f"{work}/todo.policy")
    check("build without a key is a usage error", usage.returncode == 64, usage.stderr)
    outside = run("bundle", "build", "--key", signer, "--output", f"{work}/x.tar.gz",
                  f"{src}/todo.policy", f"{root}/README.md")
    check("build refuses a file outside the policy's folder",
          outside.returncode == 1 and "not in the policy's folder" in outside.stderr, outside.stderr)
finally:
    shutil.rmtree(work, ignore_errors=True)

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
