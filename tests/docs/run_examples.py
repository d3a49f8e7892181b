#!/usr/bin/env python3
"""Runs every example session in the docs and compares its output with the doc.

The convention (docs/README of the convention: the top of tests/docs/run_examples.sh):

- A fenced code block whose first line starts with `$ ` is a session. Each `$ ` line is a
  command, run with bash; the lines after it, up to the next `$ ` line or the end of the
  block, are its output (standard output and standard error together), which must match
  exactly. `$ echo $?` prints the exit status of the command before it.
- A session runs in a fresh temporary folder that holds `policies`, `tests`, `docs` and
  `tools` of the repository (as links), so paths such as `policies/privacy.policy` work,
  and the files the doc gave so far. `clause` is the one under test.
- `<!-- file: NAME -->` before a fenced block makes that block the file NAME for every
  later session of the same doc; `<!-- file: NAME append -->` adds the block to it.
- `<!-- files from: docs/OTHER.md -->` gives the sessions after it the files of that doc too.
- `<!-- not run: REASON -->` before a block skips it and counts it: a session whose output
  depends on the machine or the time, or the output of a command shown without its `$ `
  line (benchmark figures).
- A command ending in ` &` starts a server in the background (`clause serve`): its
  `--port N` becomes `--port 0`, the port it listens on replaces N in later commands and N
  replaces it in their output. Its first output line is the output of the `&` line; the
  rest of its output is the output of `kill %1`, which stops it.
- A line `...` alone in the output stands for any lines, none or more.
- Blank lines at the very end of a session's output are not compared.
- A block with a `$ ` line that is not its first line is an error: make the `$ ` line
  first, or mark the block.

Bytes that are not UTF-8 are compared as `\\xNN`.
"""
import difflib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

FILE_MARK = re.compile(r"^<!--\s*file:\s*(\S+)(\s+append)?\s*-->\s*$")
SKIP_MARK = re.compile(r"^<!--\s*not run:\s*(.+?)\s*-->\s*$")
FROM_MARK = re.compile(r"^<!--\s*files from:\s*(\S+)\s*-->\s*$")
LINKED = ("policies", "tests", "docs", "tools")


def decode(data):
    return data.decode("utf-8", errors="backslashreplace")


def parse(path):
    """Yields (kind, line, data) items: ('file', n, (name, append, text)),
    ('session', n, lines), ('skip', n, reason), ('bad', n, message)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    items = []
    pending_file = None
    pending_skip = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = FILE_MARK.match(line)
        if m:
            pending_file = (m.group(1), bool(m.group(2)))
            i += 1
            continue
        m = FROM_MARK.match(line)
        if m:
            items.append(("from", i + 1, m.group(1)))
            i += 1
            continue
        m = SKIP_MARK.match(line)
        if m:
            pending_skip = m.group(1)
            i += 1
            continue
        if line.startswith("```"):
            fence = re.match(r"^`+", line).group(0)
            start = i + 1
            j = start
            while j < len(lines) and not lines[j].startswith(fence):
                j += 1
            body = lines[start:j]
            if pending_file:
                name, append = pending_file
                items.append(("file", start, (name, append, "\n".join(body) + "\n")))
            elif pending_skip:
                items.append(("skip", start, pending_skip))
            elif body and body[0].startswith("$ "):
                items.append(("session", start, body))
            elif any(b.startswith("$ ") for b in body):
                items.append(("bad", start, "a block with `$ ` lines that do not come first"))
            pending_file = None
            pending_skip = None
            i = j + 1
            continue
        if line.strip() and (pending_file or pending_skip):
            items.append(("bad", i + 1, "a marker not followed by a fenced block"))
            pending_file = None
            pending_skip = None
        i += 1
    return items


def split_commands(body):
    """[command, expected lines, index in body of the first expected line]"""
    commands = []
    for n, line in enumerate(body):
        if line.startswith("$ "):
            commands.append([line[2:], [], n + 1])
        else:
            commands[-1][1].append(line)
    return commands


def matches(want, actual):
    """`...` on a line of its own in the doc stands for any lines (none or more)."""
    if "...\n" not in want.splitlines(True):
        return actual == want
    pattern = "".join("(?:.*\n)*?" if line == "...\n" else re.escape(line)
                      for line in want.splitlines(True))
    return re.fullmatch(pattern, actual) is not None


class Session:
    def __init__(self, root, clause, files, env):
        self.dir = tempfile.mkdtemp(prefix="clause-docs-")
        for name in LINKED:
            os.symlink(os.path.join(root, name), os.path.join(self.dir, name))
        os.makedirs(os.path.join(self.dir, "build", "bin"))
        os.symlink(clause, os.path.join(self.dir, "build", "bin", "clause"))
        for name, text in files.items():
            p = os.path.join(self.dir, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w", encoding="utf-8") as f:
                f.write(text)
        self.env = env
        self.rc = 0
        self.server = None
        self.server_out = None
        self.server_read = 0
        self.ports = {}  # port in the doc -> port in use

    def server_text(self):
        with open(self.server_out, "rb") as f:
            f.seek(self.server_read)
            data = f.read()
        self.server_read += len(data)
        return decode(data)

    def start(self, command):
        m = re.search(r"--port (\d+)", command)
        doc_port = m.group(1) if m else None
        command = re.sub(r"--port \d+", "--port 0", command[:-1].rstrip())
        self.server_out = os.path.join(self.dir, ".server.out")
        out = open(self.server_out, "wb")
        self.server = subprocess.Popen(["bash", "-c", "exec " + command], cwd=self.dir, env=self.env,
                                       stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
        out.close()
        deadline = time.time() + 20
        text = ""
        while time.time() < deadline:
            with open(self.server_out, "rb") as f:
                text = decode(f.read())
            if "\n" in text or self.server.poll() is not None:
                break
            time.sleep(0.05)
        first = text.split("\n")[0] + "\n" if "\n" in text else text
        self.server_read = len(first.encode("utf-8"))
        m = re.search(r"listening on [^:\s]+:(\d+)", first)
        if m and doc_port:
            self.ports[doc_port] = m.group(1)
        return first

    def stop(self):
        if not self.server:
            return ""
        self.server.send_signal(signal.SIGTERM)
        try:
            self.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()
        self.rc = self.server.returncode
        self.server = None
        return self.server_text()

    def run(self, command):
        if command.strip() == "echo $?":
            return f"{self.rc}\n"
        if command.rstrip().endswith("&"):
            return self.unport(self.start(command))
        if re.fullmatch(r"kill %\d*", command.strip()):
            return self.unport(self.stop())
        for doc_port, port in self.ports.items():
            command = command.replace(":" + doc_port, ":" + port)
        try:
            p = subprocess.run(["bash", "-c", command], cwd=self.dir, env=self.env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, timeout=120)
            self.rc = p.returncode
            return self.unport(decode(p.stdout))
        except subprocess.TimeoutExpired:
            self.rc = 124
            return "(timed out after 120 seconds)\n"

    def unport(self, text):
        for doc_port, port in self.ports.items():
            text = text.replace(":" + port, ":" + doc_port)
        return text

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    clause = os.path.abspath(sys.argv[1])
    root = os.path.abspath(sys.argv[2])
    docs = sys.argv[3:]
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(clause) + os.pathsep + env.get("PATH", "")
    env["LC_ALL"] = "C.UTF-8"
    # Standard output line by line, as on a terminal, so that it interleaves with standard
    # error in the order the doc shows.
    stdbuf = "/usr/libexec/coreutils/libstdbuf.so"
    if os.path.exists(stdbuf):
        env["LD_PRELOAD"] = stdbuf
        env["_STDBUF_O"] = "L"
    env.pop("CLAUSE_UPDATE_GOLDEN", None)
    # CLAUSE_DOCS_ACCEPT=1 writes what the tool prints into the docs, in place of what they
    # show (not where the doc elides lines with `...`): review the change before keeping it.
    accept = os.environ.get("CLAUSE_DOCS_ACCEPT") == "1"
    total_run = total_skip = failed = 0
    for doc in docs:
        rel = os.path.relpath(doc, root)
        files = {}
        edits = []
        ran = skipped = doc_failed = 0
        for kind, line, data in parse(doc):
            if kind == "file":
                name, append, text = data
                files[name] = (files.get(name, "") + text) if append else text
            elif kind == "from":
                for k, _, d in parse(os.path.join(root, data)):
                    if k == "file":
                        files[d[0]] = (files.get(d[0], "") + d[2]) if d[1] else d[2]
            elif kind == "skip":
                skipped += 1
            elif kind == "bad":
                print(f"FAILED: {rel}:{line}: {data}")
                doc_failed += 1
            else:
                ran += 1
                session = Session(root, clause, files, env)
                try:
                    commands = split_commands(data)
                    for n, (command, expected, at) in enumerate(commands):
                        actual = session.run(command)
                        want = "".join(e + "\n" for e in expected)
                        if n == len(commands) - 1:
                            # Blank lines at the very end of a session are not shown.
                            actual = actual.rstrip("\n") + "\n" if actual.strip("\n") else ""
                            want = want.rstrip("\n") + "\n" if want.strip("\n") else ""
                        if not matches(want, actual):
                            doc_failed += 1
                            print(f"FAILED: {rel}:{line}: `$ {command}` prints other than the doc:")
                            sys.stdout.writelines(difflib.unified_diff(
                                want.splitlines(True), actual.splitlines(True), "doc", "actual"))
                            if accept and "..." not in expected:
                                edits.append((line + at, len(expected), actual.splitlines()))
                                continue
                            break
                finally:
                    session.close()
        if edits:
            with open(doc, encoding="utf-8") as f:
                text = f.read().split("\n")
            for start, count, lines in sorted(edits, reverse=True):
                text[start:start + count] = lines
            with open(doc, "w", encoding="utf-8") as f:
                f.write("\n".join(text))
            print(f"{rel}: wrote what the tool prints into {len(edits)} places")
        print(f"{rel}: {ran} run, {skipped} not run, {doc_failed} failed")
        total_run += ran
        total_skip += skipped
        failed += doc_failed
    print(f"docs: {total_run} examples run, {total_skip} not run, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
