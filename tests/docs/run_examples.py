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
- A session whose first command starts with `python3 ` needs the build tree's Python
  module (`PYTHONPATH` names it); without one it is not run, and counted so.
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

The other code blocks are checked too, so that no example rots:

- ```json: it must parse as JSON, or as JSON Lines (one object a line) when marked
  `<!-- jsonl -->` or when every line is an object. `...` standing for elided items
  (`[{...}, ...]`) is dropped before parsing. An object with `data`, `requester` and
  `action` is a request: `clause eval --policy FILE -` must decide it without an error,
  where FILE is `policies/privacy.policy` or what `<!-- request for: FILE -->` names (a
  file of the doc, or a path in the repository). `<!-- invalid request -->` says the
  request must instead be denied with an error.
- ```cpp: with `int main` the block is compiled and linked against the build tree's
  libraries; `<!-- run -->` also runs it, and a block marked `<!-- output -->` after it is
  what it must print. Without `main` it is a fragment, compiled with `-fsyntax-only` in
  the body of a function, after the public headers (`#include` lines of the fragment go
  before the function); `<!-- cpp: namespace -->` puts it at namespace scope instead.
  `<!-- cpp context: DECLARATIONS -->` gives a fragment the names it uses but does not
  declare (`std::string request_text;`); it goes just before the fragment.
- Policy text (```policy, or a plain block whose first line starts with `policy "`) must
  pass `clause check`, unless it is a file a session of the doc uses (the session checks
  it), or is marked `<!-- broken -->`, in which case `clause check` must fail.
- Markers may be stacked on the lines just before a block, e.g. a `file:` marker and a
  `request for:` marker.
"""
import difflib
import glob
import json
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


MARKS = {
    "jsonl": re.compile(r"^<!--\s*jsonl\s*-->\s*$"),
    "request_for": re.compile(r"^<!--\s*request for:\s*(\S+)\s*-->\s*$"),
    "invalid_request": re.compile(r"^<!--\s*invalid request\s*-->\s*$"),
    "broken": re.compile(r"^<!--\s*broken\s*-->\s*$"),
    "run": re.compile(r"^<!--\s*run\s*-->\s*$"),
    "output": re.compile(r"^<!--\s*output\s*-->\s*$"),
    "namespace": re.compile(r"^<!--\s*cpp:\s*namespace\s*-->\s*$"),
    "context": re.compile(r"^<!--\s*cpp context:\s*(.+?)\s*-->\s*$"),
}


def parse(path):
    """Yields (kind, line, data) items: ('file', n, (name, append, text)),
    ('session', n, lines), ('skip', n, reason), ('bad', n, message), ('from', n, doc),
    ('block', n, (language, lines, marks, file name or None)) for the other blocks."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    items = []
    pending_file = None
    pending_skip = None
    marks = {}
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
        found = False
        for key, pattern in MARKS.items():
            m = pattern.match(line)
            if m:
                marks[key] = m.group(1) if m.groups() else True
                found = True
        if found:
            i += 1
            continue
        if line.startswith("```"):
            fence = re.match(r"^`+", line).group(0)
            language = line[len(fence):].strip()
            start = i + 1
            j = start
            while j < len(lines) and not lines[j].startswith(fence):
                j += 1
            body = lines[start:j]
            if pending_skip:
                items.append(("skip", start, pending_skip))
            elif pending_file:
                name, append = pending_file
                items.append(("file", start, (name, append, "\n".join(body) + "\n")))
                items.append(("block", start, (language, body, marks, name)))
            elif body and body[0].startswith("$ "):
                items.append(("session", start, body))
            elif any(b.startswith("$ ") for b in body):
                items.append(("bad", start, "a block with `$ ` lines that do not come first"))
            else:
                items.append(("block", start, (language, body, marks, None)))
            pending_file = None
            pending_skip = None
            marks = {}
            i = j + 1
            continue
        if line.strip() and (pending_file or pending_skip or marks):
            items.append(("bad", i + 1, "a marker not followed by a fenced block"))
            pending_file = None
            pending_skip = None
            marks = {}
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


HEADERS = ("clause/clause.hpp", "clause/json.hpp", "clause/store.hpp", "clause/log.hpp",
           "clause/lint.hpp", "clause/verify.hpp")
STD_HEADERS = ("iostream", "optional", "string", "string_view", "utility", "vector")
REQUEST_KEYS = ("data", "requester", "action")


def is_policy_block(language, body):
    return language == "policy" or (language == "" and bool(body) and body[0].startswith('policy "'))


def parse_json(body, marks):
    """The JSON values of a block: one, or one a line for JSON Lines."""
    text = "\n".join(body)
    # `...` for elided items: `[a, ...]`, `{..., "b": 1}`.
    text = re.sub(r",\s*\.\.\.(?=\s*[\]}])", "", text)
    text = re.sub(r"(?<=[\[{])\s*\.\.\.\s*,", "", text)
    lines = [b for b in text.split("\n") if b.strip()]
    if not marks.get("jsonl"):
        try:
            return [json.loads(text)]
        except ValueError as e:
            whole_error = e
        # JSON Lines when every line is an object.
        try:
            values = [json.loads(b) for b in lines]
        except ValueError:
            raise whole_error
        if values and all(isinstance(v, dict) for v in values):
            return values
        raise whole_error
    return [json.loads(b) for b in lines]


class Checker:
    """Checks the blocks that are not sessions: json, cpp and policy text."""

    def __init__(self, root, clause, build, env):
        self.root = root
        self.clause = clause
        self.build = build
        self.env = env
        self.cxx = "c++"
        self.libs = None

    def libraries(self):
        if self.libs is None:
            found = []
            for name in ("libclause_engine.a", "libclause_dsl.a"):
                paths = sorted(glob.glob(os.path.join(self.build, "**", name), recursive=True))
                if not paths:
                    raise RuntimeError(f"no {name} under {self.build}")
                found.append(paths[0])
            # The engine hashes policies with OpenSSL's libcrypto.
            self.libs = found + ["-lfmt", "-lcrypto", "-pthread"]
        return self.libs

    def in_dir(self, files, argv, stdin=None):
        session = Session(self.root, self.clause, files, self.env)
        try:
            p = subprocess.run(argv, cwd=session.dir, env=self.env, input=stdin,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
            return p.returncode, decode(p.stdout)
        finally:
            session.close()

    def request(self, value, marks, files):
        """None when the request is decided as the marks say, else what went wrong."""
        policy = marks.get("request_for", "policies/privacy.policy")
        if policy not in files and not os.path.exists(os.path.join(self.root, policy)):
            return f"no policy `{policy}` in the doc or the repository"
        rc, out = self.in_dir(files, [self.clause, "eval", "--policy", policy, "-"],
                              json.dumps(value).encode("utf-8"))
        try:
            decision = json.loads(out.strip().split("\n")[-1])
        except (ValueError, IndexError):
            decision = None
        if not isinstance(decision, dict):
            return f"`clause eval --policy {policy} -` printed no decision:\n{out}"
        if marks.get("invalid_request"):
            if decision.get("decision") != "deny" or "error" not in decision:
                return f"marked invalid, but `clause eval --policy {policy}` decides it:\n{out}"
        elif rc != 0 or "error" in decision:
            return f"`clause eval --policy {policy}` does not decide it (exit {rc}):\n{out}"
        return None

    def check_json(self, body, marks, files):
        """A list of problems."""
        try:
            values = parse_json(body, marks)
        except ValueError as e:
            return [f"not JSON: {e}"]
        problems = []
        requests = [v for v in values if isinstance(v, dict) and all(k in v for k in REQUEST_KEYS)]
        if (marks.get("request_for") or marks.get("invalid_request")) and not requests:
            problems.append("marked as a request, but holds none")
        for value in requests:
            problem = self.request(value, marks, files)
            if problem:
                problems.append(problem)
        return problems

    def check_policy(self, body, marks, files, name):
        name = name or "example.policy"
        files = dict(files)
        files[name] = "\n".join(body) + "\n"
        rc, out = self.in_dir(files, [self.clause, "check", name])
        if marks.get("broken"):
            return [] if rc != 0 else ["marked broken, but `clause check` passes it"]
        return [] if rc == 0 else [f"`clause check` fails:\n{out}"]

    def cpp_source(self, rel, line, body, marks):
        includes = [b for b in body if b.lstrip().startswith("#include")]
        rest = [b if not b.lstrip().startswith("#include") else "" for b in body]
        out = [f"#include <{h}>" for h in HEADERS] + [f"#include <{h}>" for h in STD_HEADERS]
        out += includes
        if marks.get("namespace"):
            out.append(marks.get("context", ""))
            out.append(f'#line {line + 1} "{rel}"')
            out += rest
        else:
            out.append("int clause_docs_fragment() {")
            out.append(marks.get("context", ""))
            out.append(f'#line {line + 1} "{rel}"')
            out += rest
            out.append("return 0;")
            out.append("}")
        return "\n".join(out) + "\n"

    def check_cpp(self, rel, line, body, marks):
        """(problems, output of the program when it was run, or None)."""
        program = any(re.match(r"\s*int\s+main\s*\(", b) for b in body)
        if marks.get("run") and not program:
            return ["marked `run`, but has no `int main`"], None
        work = tempfile.mkdtemp(prefix="clause-docs-cpp-")
        try:
            source = os.path.join(work, "example.cpp")
            includes = ["-I", os.path.join(self.root, "engine", "include"),
                        "-I", os.path.join(self.root, "dsl", "include")]
            if program:
                with open(source, "w", encoding="utf-8") as f:
                    f.write(f'#line {line + 1} "{rel}"\n' + "\n".join(body) + "\n")
                binary = os.path.join(work, "example")
                try:
                    libraries = self.libraries()
                except RuntimeError as e:
                    return [f"cannot link: {e} (give the build tree with --build DIR)"], None
                argv = [self.cxx, "-std=c++20", *includes, source, "-o", binary, *libraries]
            else:
                with open(source, "w", encoding="utf-8") as f:
                    f.write(self.cpp_source(rel, line, body, marks))
                argv = [self.cxx, "-std=c++20", "-fsyntax-only", *includes, source]
            p = subprocess.run(argv, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=300)
            if p.returncode != 0:
                return [f"does not compile (`{' '.join(argv[:2])} ...`):\n{decode(p.stdout)}"], None
            if not (program and marks.get("run")):
                return [], None
            files = {}
            session = Session(self.root, self.clause, files, self.env)
            try:
                p = subprocess.run([binary], cwd=session.dir, env=self.env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
            finally:
                session.close()
            if p.returncode != 0:
                return [f"exits with {p.returncode}:\n{decode(p.stdout)}"], decode(p.stdout)
            return [], decode(p.stdout)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def main():
    clause = os.path.abspath(sys.argv[1])
    root = os.path.abspath(sys.argv[2])
    docs = sys.argv[3:]
    # --build DIR: the build tree whose libraries the C++ examples link against (by
    # default the folder above the one of CLAUSE, as in build/bin/clause).
    build = os.path.dirname(os.path.dirname(clause))
    if docs[:1] == ["--build"]:
        build = os.path.abspath(docs[1])
        docs = docs[2:]
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(clause) + os.pathsep + env.get("PATH", "")
    env["LC_ALL"] = "C.UTF-8"
    # The Python module of the build tree, for docs/python.md's sessions. A tree built
    # without it (CLAUSE_PYTHON off) cannot run them: they are counted as not run.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [os.path.join(build, "python"), env.get("PYTHONPATH", "")] if p)
    python_module = bool(glob.glob(os.path.join(build, "python", "clause*.so")))
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
    checker = Checker(root, clause, build, env)
    total_run = total_skip = failed = 0
    totals = {"json": 0, "cpp compiled": 0, "cpp run": 0, "policy": 0}
    for doc in docs:
        rel = os.path.relpath(doc, root)
        files = {}
        edits = []
        ran = skipped = doc_failed = 0
        counts = {"json": 0, "cpp compiled": 0, "cpp run": 0, "policy": 0}
        current = {}      # file name -> the policy block that gives it now
        policies = []     # [line, body, marks, file name, used by a session]
        program_output = None  # (line, what the last program run printed)

        def fail(at, message):
            nonlocal doc_failed
            doc_failed += 1
            print(f"FAILED: {rel}:{at}: {message}")

        for kind, line, data in parse(doc):
            if kind == "block":
                language, body, marks, name = data
                if marks.get("output"):
                    if program_output is None:
                        fail(line, "an `output` block with no `run` C++ block before it")
                    else:
                        want = "\n".join(body).rstrip("\n") + "\n"
                        actual = program_output[1].rstrip("\n") + "\n"
                        if want != actual:
                            fail(line, f"the program at line {program_output[0]} prints other than the doc:")
                            sys.stdout.writelines(difflib.unified_diff(
                                want.splitlines(True), actual.splitlines(True), "doc", "actual"))
                    program_output = None
                elif language == "json":
                    counts["json"] += 1
                    for problem in checker.check_json(body, marks, files):
                        fail(line, problem)
                elif language == "cpp":
                    counts["cpp compiled"] += 1
                    problems, output = checker.check_cpp(rel, line, body, marks)
                    for problem in problems:
                        fail(line, problem)
                    if output is not None:
                        counts["cpp run"] += 1
                        program_output = (line, output)
                elif is_policy_block(language, body):
                    entry = [line, body, marks, name, False, dict(files)]
                    policies.append(entry)
                    if name:
                        current[name] = entry
                elif marks.get("run") or marks.get("request_for") or marks.get("invalid_request"):
                    fail(line, "a marker that does not fit the block")
                continue
            if kind == "session":
                text = "\n".join(data)
                for name, entry in current.items():
                    if re.search(r"(?<![\w./-])" + re.escape(name) + r"(?![\w-])", text):
                        entry[4] = True
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
            elif not python_module and data and data[0].startswith("$ python3 "):
                print(f"{rel}:{line}: not run: the build tree has no Python module")
                skipped += 1
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
        for line, body, marks, name, used, at_files in policies:
            if name and used and not marks.get("broken"):
                continue
            counts["policy"] += 1
            for problem in checker.check_policy(body, marks, at_files, name):
                fail(line, problem)
        if edits:
            with open(doc, encoding="utf-8") as f:
                text = f.read().split("\n")
            for start, count, lines in sorted(edits, reverse=True):
                text[start:start + count] = lines
            with open(doc, "w", encoding="utf-8") as f:
                f.write("\n".join(text))
            print(f"{rel}: wrote what the tool prints into {len(edits)} places")
        print(f"{rel}: {ran} run, {counts['json']} json checked, "
              f"{counts['cpp compiled']} cpp compiled ({counts['cpp run']} run), "
              f"{counts['policy']} policy checked, {skipped} not run, {doc_failed} failed")
        total_run += ran
        total_skip += skipped
        failed += doc_failed
        for key in totals:
            totals[key] += counts[key]
    print(f"docs: {total_run} examples run, {totals['json']} json checked, "
          f"{totals['cpp compiled']} cpp compiled ({totals['cpp run']} run), "
          f"{totals['policy']} policy checked, {total_skip} not run, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
