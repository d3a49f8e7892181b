#!/usr/bin/env python3
"""A scripted editor session with `clause lsp`, checked step by step and as a whole.

Starts `CLAUSE lsp`, opens a broken policy, asks for its fixes, fixes it, asks for hover,
definition, the outline, references, rename, semantic tokens, completion and formatting,
sends garbage, then shuts down. Each answer is checked here,
and the whole transcript (what was sent, what came back, the server's log) must equal
tests/lsp/session.expected; CLAUSE_UPDATE_GOLDEN=1 rewrites that file, to be reviewed.

usage: session.py CLAUSE
"""
import json
import os
import queue
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "session.expected")
URI = "file:///work/demo.policy"
TIMEOUT = 20

# é is 2 bytes and 1 UTF-16 unit, 😀 4 bytes and 2 units: columns after them differ.
FIXED = (
    'policy "Démo" version "1"\n'
    'clause "1" "Les données 😀 de contact."\n'
    "data personal_info\n"
    'data contact_info under personal_info cites "1"\n'
    "requester partner\n"
    "action read\n"
    "fact active\n"
    "purpose service\n"
    "consent sharing\n"
    'clause "2" "Partenaires é😀" allow read of contact_info by partner when active cites "1"\n'
    'require consent sharing for read of personal_info by partner when purpose is service cites "2"\n'
)
BROKEN = FIXED.replace("by partner when active", "by partnr when active").replace(
    'service cites "2"', 'service cites "3"'
)


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)


class Session:
    def __init__(self, clause):
        self.proc = subprocess.Popen(
            [clause, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.inbox = queue.Queue()
        self.transcript = []
        threading.Thread(target=self._read, daemon=True).start()
        self.stderr = []
        self.stderr_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.stderr_reader.start()

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.inbox.put(None)
                    return
                line = line.rstrip(b"\r\n")
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length is None:
                self.inbox.put({"framing error": "no Content-Length"})
                continue
            self.inbox.put(json.loads(out.read(length).decode("utf-8")))

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr.append(line.decode("utf-8", "replace").rstrip("\n"))

    def send_raw(self, data, label):
        self.transcript.append("-> " + label)
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message):
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        self.transcript.append("-> " + json.dumps(message, sort_keys=True, ensure_ascii=False))
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def receive(self):
        try:
            message = self.inbox.get(timeout=TIMEOUT)
        except queue.Empty:
            raise Failure("no answer within %d seconds" % TIMEOUT)
        check(message is not None, "the server closed its output")
        self.transcript.append("<- " + json.dumps(message, sort_keys=True, ensure_ascii=False))
        return message

    def request(self, id_, method, params=None):
        self.send({"jsonrpc": "2.0", "id": id_, "method": method, "params": params or {}})
        message = self.receive()
        check(message.get("id") == id_, "expected the answer to %d, got %s" % (id_, message))
        return message

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def diagnostics(self, version):
        message = self.receive()
        check(message.get("method") == "textDocument/publishDiagnostics", "expected diagnostics")
        check(message["params"]["uri"] == URI, "diagnostics for another document")
        check(message["params"].get("version") == version, "diagnostics of another version")
        return message["params"]["diagnostics"]


def position(text, needle, skip=0):
    """The LSP position (UTF-16 columns) of `needle` in `text`, plus `skip` characters."""
    at = text.index(needle) + skip
    line = text.count("\n", 0, at)
    start = text.rfind("\n", 0, at) + 1
    units = len(text[start:at].encode("utf-16-le")) // 2
    return {"line": line, "character": units}


def doc(extra=None):
    out = {"textDocument": {"uri": URI}}
    out.update(extra or {})
    return out


def run(clause):
    s = Session(clause)
    init = s.request(1, "initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    caps = init["result"]["capabilities"]
    check(init["result"]["serverInfo"]["name"] == "clause", "serverInfo")
    # The version is the project's; the golden transcript does not pin it.
    s.transcript[-1] = s.transcript[-1].replace(
        json.dumps(init["result"]["serverInfo"]["version"]), '"VERSION"')
    check(caps["textDocumentSync"]["change"] == 1, "full text sync")
    check(caps["hoverProvider"] and caps["definitionProvider"], "hover and definition")
    check(caps["documentFormattingProvider"], "formatting")
    check(" " in caps["completionProvider"]["triggerCharacters"], "completion triggers")
    check(caps["documentSymbolProvider"] and caps["referencesProvider"], "outline and references")
    check(caps["renameProvider"]["prepareProvider"], "rename")
    check(caps["codeActionProvider"]["codeActionKinds"] == ["quickfix"], "code actions")
    check(caps["semanticTokensProvider"]["full"], "semantic tokens")
    s.notify("initialized", {})

    # A broken policy: an unknown requester kind after non-ASCII text, an unknown clause.
    s.notify("textDocument/didOpen", {"textDocument": {
        "uri": URI, "languageId": "clause-policy", "version": 1, "text": BROKEN}})
    found = s.diagnostics(1)
    # Clause 2 is cited by nothing while the rule cites "3": W001, as `clause check` says.
    check([d["code"] for d in found] == ["W001", "E211", "E220"], "codes: %s" % found)
    found = found[1:]
    start = position(BROKEN, "partnr when")
    check(start["character"] != BROKEN.split("\n")[9].encode().index(b"partnr"), "UTF-16 differs")
    check(found[0]["range"] == {"start": start,
                                "end": {"line": start["line"],
                                        "character": start["character"] + 6}}, "E211 range")
    check(found[0]["severity"] == 1 and found[0]["source"] == "clause", "E211 severity")
    check("did you mean `partner`?" in found[0]["message"], "E211 help")
    check(found[1]["range"]["start"] == position(BROKEN, '"3"'), "E220 range")

    # The did-you-mean fixes, as code actions.
    typo = position(BROKEN, "partnr when", 2)
    actions = s.request(20, "textDocument/codeAction",
                        doc({"range": {"start": typo, "end": typo},
                             "context": {"diagnostics": []}}))["result"]
    check([a["title"] for a in actions] == ["Change to `partner`"], "actions: %s" % actions)
    edit = actions[0]["edit"]["changes"][URI][0]
    check(edit["newText"] == "partner" and edit["range"] == found[0]["range"], "the fix's edit")

    # Fixed: no diagnostics.
    s.notify("textDocument/didChange", {"textDocument": {"uri": URI, "version": 2},
                                        "contentChanges": [{"text": FIXED}]})
    check(s.diagnostics(2) == [], "the fixed policy has no diagnostics")

    hover = s.request(2, "textDocument/hover",
                      doc({"position": position(FIXED, "contact_info by", 3)}))["result"]
    check("data contact_info under personal_info cites \"1\"" in hover["contents"]["value"],
          "hover on a name shows its declaration")
    check("Les données 😀 de contact." in hover["contents"]["value"], "... and its clause")
    check(hover["range"]["start"] == position(FIXED, "contact_info by"), "hover range")

    hover = s.request(3, "textDocument/hover",
                      doc({"position": position(FIXED, 'active cites "1"', 14)}))["result"]
    check('clause "1"' in hover["contents"]["value"], "hover on a citation shows the clause")
    check("Les données 😀 de contact." in hover["contents"]["value"], "... and its words")

    hover = s.request(4, "textDocument/hover",
                      doc({"position": position(FIXED, "require consent")}))["result"]
    check("rule `2/1`" in hover["contents"]["value"], "hover on a rule shows its id")
    check("tier: consent" in hover["contents"]["value"], "... and its tier")

    where = s.request(5, "textDocument/definition",
                      doc({"position": position(FIXED, "partner when active", 2)}))["result"]
    check(where == {"uri": URI, "range": {"start": position(FIXED, "partner\n"),
                                          "end": position(FIXED, "partner\n", 7)}},
          "definition of a name: %s" % where)
    where = s.request(6, "textDocument/definition",
                      doc({"position": position(FIXED, 'service cites "2"', 15)}))["result"]
    check(where["range"]["start"] == position(FIXED, 'clause "2"'),
          "definition of a citation: the clause statement")

    symbols = s.request(21, "textDocument/documentSymbol", doc())["result"]
    check([x["name"] for x in symbols] ==
          ["Démo", "1", "personal_info", "contact_info", "partner", "read", "active", "service",
           "sharing", "2", "1/1", "2/1"], "outline: %s" % [x["name"] for x in symbols])
    at_name = doc({"position": position(FIXED, "contact_info by", 3)})
    refs = s.request(22, "textDocument/references",
                     dict(at_name, context={"includeDeclaration": True}))["result"]
    check([r["range"]["start"] for r in refs] ==
          [position(FIXED, "contact_info under"), position(FIXED, "contact_info by")],
          "references: %s" % refs)
    check(s.request(23, "textDocument/prepareRename", at_name)["result"]["placeholder"] ==
          "contact_info", "prepareRename")
    edit = s.request(24, "textDocument/rename", dict(at_name, newName="contact"))["result"]
    check(len(edit["changes"][URI]) == 2, "rename edits both places")
    error = s.request(25, "textDocument/rename", dict(at_name, newName="personal_info"))
    check(error["error"]["code"] == -32602, "rename to a declared name is refused")
    tokens = s.request(26, "textDocument/semanticTokens/full", doc())["result"]["data"]
    check(len(tokens) % 5 == 0 and tokens[:5] == [0, 0, 6, 0, 0], "semantic tokens: policy first")

    # Completion after `of `, while the text does not parse.
    typing = FIXED + "deny read of "
    s.notify("textDocument/didChange", {"textDocument": {"uri": URI, "version": 3},
                                        "contentChanges": [{"text": typing}]})
    check(s.diagnostics(3) != [], "the half-typed rule has an error")
    items = s.request(7, "textDocument/completion",
                      doc({"position": position(typing, "deny read of ", 13)}))["result"]
    check(sorted(i["label"] for i in items) == ["contact_info", "personal_info"],
          "completion after `of`: %s" % items)
    check(s.request(8, "textDocument/formatting",
                    doc({"options": {"tabSize": 2, "insertSpaces": True}}))["result"] == [],
          "no formatting while there are syntax errors")

    s.notify("textDocument/didChange", {"textDocument": {"uri": URI, "version": 4},
                                        "contentChanges": [{"text": FIXED}]})
    check(s.diagnostics(4) == [], "fixed again")
    edits = s.request(9, "textDocument/formatting",
                      doc({"options": {"tabSize": 2, "insertSpaces": True}}))["result"]
    expected = subprocess.run([clause, "fmt", "-"], input=FIXED.encode("utf-8"),
                              capture_output=True, check=True).stdout.decode("utf-8")
    check(len(edits) == 1 and edits[0]["newText"] == expected, "formatting is clause fmt's")
    check(edits[0]["range"] == {"start": {"line": 0, "character": 0},
                                "end": {"line": 11, "character": 0}}, "one whole-document edit")

    # Malformed input: the server says so, or skips it, and goes on.
    s.send_raw(b"garbage\r\n\r\n", "garbage\\r\\n\\r\\n")
    s.send_raw(b"Content-Length: 9\r\n\r\n{\"id\": 1,", 'Content-Length: 9 {"id": 1,')
    error = s.receive()
    check(error.get("id") is None and error["error"]["code"] == -32700, "ParseError")
    s.notify("$/cancelRequest", {"id": 9})
    error = s.request(10, "textDocument/noSuchMethod", doc())
    check(error["error"]["code"] == -32601, "MethodNotFound")
    error = s.request(11, "textDocument/hover", doc({"position": "nowhere"}))
    check(error["error"]["code"] == -32602, "InvalidParams")

    s.notify("textDocument/didClose", {"textDocument": {"uri": URI}})
    check(s.diagnostics(None) == [], "closing clears the diagnostics")
    check(s.request(12, "shutdown")["result"] is None, "shutdown")
    s.notify("exit", {})
    status = s.proc.wait(timeout=TIMEOUT)
    check(status == 0, "exit after shutdown gives 0, not %d" % status)
    s.transcript.append("exit status %d" % status)
    s.stderr_reader.join(timeout=TIMEOUT)
    for line in s.stderr:
        s.transcript.append("stderr: " + line)
    return s.transcript


def exit_without_shutdown(clause):
    """`exit` without `shutdown` gives 1; so does the end of input."""
    body = b'{"jsonrpc":"2.0","method":"exit"}'
    for data in (b"Content-Length: %d\r\n\r\n" % len(body) + body, b""):
        proc = subprocess.run([clause, "lsp"], input=data, capture_output=True, timeout=TIMEOUT)
        check(proc.returncode == 1, "exit code %d without shutdown" % proc.returncode)


def main():
    clause = sys.argv[1]
    try:
        exit_without_shutdown(clause)
        transcript = "\n".join(run(clause)) + "\n"
    except Failure as e:
        print("FAILED: %s" % e)
        return 1
    if os.environ.get("CLAUSE_UPDATE_GOLDEN") == "1":
        with open(GOLDEN, "w", encoding="utf-8") as f:
            f.write(transcript)
    with open(GOLDEN, encoding="utf-8") as f:
        golden = f.read()
    if transcript != golden:
        import difflib
        sys.stdout.writelines(difflib.unified_diff(
            golden.splitlines(True), transcript.splitlines(True), "session.expected", "actual"))
        print("FAILED: the transcript differs from tests/lsp/session.expected")
        return 1
    print("lsp session: every step answered as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
