#!/usr/bin/env python3
"""The examples of docs/API.md, run verbatim against a real node.

Run: tests/tools/test_api_docs.py   (from anywhere; PEL_BIN=path/to/pel to
use another binary than build/pel; PEL_DOCS_SHOW=1 prints the seeded
values and every answer; PEL_API_MD=FILE reads the examples from FILE)
The last line is "test_api_docs: N passed, N failed"; the exit status is
non-zero if anything failed.

It starts `pel node` on a temporary directory and a free port, seeds a
scenario through the CLI (two funded keys, a transfer, two research objects
with a derived-from link and contributors, a review, a preregistration
committed, revealed, with switched outcomes, licence terms and a purchase, a
share class, a member DAO whose grant proposal is voted and executed, and
transactions signed by the CLI but kept back through a capturing proxy) and
records the values the examples name as $PLACEHOLDERS (the table at the top
of docs/API.md says what each one is). Then every
```rpc-example block of docs/API.md is sent as a JSON-RPC 2.0 request and its
answer matched against the block by the rule the top of docs/API.md states
(one check per block), and every method in the node's table
(src/rpc/methods.c) must have at least one block. The node is always
stopped at the end.
"""

import base64
import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
API_MD = os.path.join(ROOT, "docs", "API.md")
METHODS_C = os.path.join(ROOT, "src", "rpc", "methods.c")
ELLIPSIS = "\u2026"
ANY_NUMBER = "\u2026#number"     # what a bare … outside a string becomes

PASSED = 0
FAILED = 0


def check(cond, what):
    global PASSED, FAILED
    if cond:
        PASSED += 1
    else:
        FAILED += 1
        print("FAIL: %s" % what)
    return cond


# ------------------------------------------------------------- the node

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def post(url, body, timeout=10):
    rq = urllib.request.Request(url, data=json.dumps(body).encode(),
                                headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(rq, timeout=timeout) as r:
        return json.loads(r.read().decode())


class Node:
    """A `pel node` process on a temporary directory and a free port."""

    def __init__(self, pel, tmp):
        self.pel, self.tmp = pel, tmp
        self.dir = os.path.join(tmp, "node")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/rpc" % self.port
        self.proc = None
        self.log = None
        self.next_id = 1

    def start(self):
        subprocess.run([self.pel, "init", "--dir", self.dir, "--port", str(self.port),
                        "--chain-id", "docs-chain"], check=True, capture_output=True)
        self.log = open(os.path.join(self.tmp, "node.log"), "wb")
        self.proc = subprocess.Popen([self.pel, "node", "--dir", self.dir, "--quiet"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        end = time.time() + 15
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("pel node exited with %s" % self.proc.returncode)
            try:
                if "result" in self.call("node_info", {}):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("pel node did not answer within 15 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.close()

    def call(self, method, params):
        """The whole JSON-RPC answer (with "result" or "error")."""
        self.next_id += 1
        return post(self.url, {"jsonrpc": "2.0", "id": self.next_id,
                               "method": method, "params": params})

    def result(self, method, params):
        r = self.call(method, params)
        if "result" not in r:
            raise RuntimeError("%s %s: %s" % (method, json.dumps(params), r.get("error")))
        return r["result"]

    def cli(self, *args, rpc=True):
        """Run `pel ARGS --rpc URL`; stdout, or raise with stderr."""
        p = subprocess.run([self.pel] + list(args) + (["--rpc", self.url] if rpc else []),
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("pel %s: exit %d: %s%s" % (" ".join(args), p.returncode,
                                                         p.stdout, p.stderr))
        return p.stdout

    def cli_tx(self, *args):
        """A CLI command with --wait --json: its committed tx_status."""
        out = self.cli(*(list(args) + ["--wait", "--json"]))
        st = json.JSONDecoder().raw_decode(out[out.index("{"):])[0]
        if st.get("status") != "committed" or not st["receipt"]["ok"]:
            raise RuntimeError("pel %s: %s" % (" ".join(args), out))
        return st


# ------------------------------------------------- capturing signed transactions

class Capture:
    """A JSON-RPC proxy in front of the node that keeps the transactions the
    CLI submits instead of submitting them (answering the CLI with an error),
    so that the examples get real signed transactions nobody has sent yet."""

    def __init__(self, node_url):
        captured = self.captured = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if body.get("method") == "submit_tx":
                    captured.append(body["params"]["tx"])
                    answer = {"jsonrpc": "2.0", "id": body.get("id"),
                              "error": {"code": -32000, "message": "kept by test_api_docs"}}
                else:
                    answer = post(node_url, body)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/rpc" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def tx_id(tx_hex):
    """A transaction's id (src/ledger/tx.h): BLAKE2b-256 tagged "PEL/txid"
    (core/hash.h: u8(len(tag)) || tag || data) over the signed encoding."""
    tag = b"PEL/txid"
    return hashlib.blake2b(bytes([len(tag)]) + tag + bytes.fromhex(tx_hex),
                           digest_size=32).hexdigest()


# ------------------------------------------------------------- the scenario

def event(st, kind):
    for ev in st["receipt"]["events"]:
        if ev.get("kind") == kind:
            return ev
    raise RuntimeError("no %s event in %s" % (kind, json.dumps(st)))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def seed(node, tmp):
    """Seed the scenario; return the placeholder values ($NAME -> value)."""
    v = {}
    keys = {}
    for who in ("ALICE", "BOB", "NOBODY"):
        keys[who] = os.path.join(tmp, who.lower() + ".key")
        v[who] = json.loads(node.cli("keygen", "--out", keys[who], "--json", rpc=False))["address"]
    a, b = keys["ALICE"], keys["BOB"]
    info = node.result("node_info", {})
    v["FAUCET"], v["VERIFIER_KEY"] = info["faucet"], info["verifier_key"]
    v["GENESIS_HASH"] = info["genesis_hash"]
    st = node.cli_tx("faucet", v["ALICE"], "--amount", "1000000000")
    v["FAUCET_TX"], v["FAUCET_HEIGHT"] = st["id"], st["height"]
    node.cli_tx("faucet", v["BOB"], "--amount", "1000000000")

    st = node.cli_tx("tx", "transfer", "--to", v["BOB"], "--amount", "5", "--key", a)
    v["TRANSFER_TX"], v["TRANSFER_HEIGHT"] = st["id"], st["height"]

    data = write(os.path.join(tmp, "data.csv"), "site,ph\nA,6.5\nB,7.1\n")
    code = write(os.path.join(tmp, "analysis.py"), "print('mean pH')\n")
    v["DATA_SHA256"], v["CODE_SHA256"] = sha256_file(data), sha256_file(code)
    st = node.cli_tx("object", "register", data, "--kind", "dataset", "--title", "Field data 2026",
                     "--license", "CC-BY-4.0", "--uri", "doi:10.5555/field.2026",
                     "--contributor", v["ALICE"] + ":data-curation,investigation", "--key", a)
    v["DATA"], v["DATA_TX"], v["DATA_HEIGHT"] = event(st, "object")["id"], st["id"], st["height"]
    st = node.cli_tx("object", "register", code, data, "--kind", "analysis", "--title", "Mean pH",
                     "--license", "MIT", "--link", "derived-from:" + v["DATA"],
                     "--contributor", v["BOB"] + ":formal-analysis,software", "--key", b)
    v["CODE"], v["CODE_TX"], v["CODE_HEIGHT"] = event(st, "object")["id"], st["id"], st["height"]

    text = write(os.path.join(tmp, "review.md"), "Sound; please add the sampling dates.\n")
    v["REVIEW_SHA256"] = sha256_file(text)
    st = node.cli_tx("review", "submit", v["CODE"] + "@v1", "--recommendation", "minor",
                     "--text", text, "--competing-interests", "none", "--key", a)
    v["REVIEW"], v["REVIEW_HEIGHT"] = event(st, "object")["id"], st["height"]

    proto = write(os.path.join(tmp, "protocol.md"), "# Protocol\nPrimary: HbA1c at 12 weeks.\n")
    v["PROTOCOL_SHA256"] = sha256_file(proto)
    save = os.path.join(tmp, "reveal.json")
    st = node.cli_tx("prereg", "commit", "--protocol", proto, "--outcome", "HbA1c at 12 weeks",
                     "--outcome", "adverse events", "--embargo-height", "100000",
                     "--registry-id", "NCT0001", "--sample-size", "100", "--save", save, "--key", a)
    v["PREREG"], v["PREREG_HEIGHT"] = event(st, "prereg")["id"], st["height"]
    v["PREREG_REVEAL_HEIGHT"] = node.cli_tx("prereg", "reveal", save, "--key", a)["height"]
    v["PREREG_RESULTS_HEIGHT"] = node.cli_tx(
        "prereg", "results", v["PREREG"], "--object", v["DATA"], "--outcome", "HbA1c at 12 weeks",
        "--outcome", "weight", "--key", a)["height"]
    v["PREREG_STATUS_HEIGHT"] = node.cli_tx("prereg", "status", v["PREREG"], "completed",
                                            "--key", a)["height"]

    v["SHARES_HEIGHT"] = node.cli_tx("shares", "create", v["DATA"], "--shares", "100",
                                     "--key", a)["height"]
    v["TERMS_HEIGHT"] = node.cli_tx("license", "set", v["CODE"], "--price", "1000", "--party",
                                    v["BOB"] + ":10000", "--upstream", "2000", "--key", b)["height"]
    st = node.cli_tx("license", "buy", v["CODE"], "--key", a)
    v["PURCHASE_TX"], v["PURCHASE_HEIGHT"] = st["id"], st["height"]

    st = node.cli_tx("dao", "create", "--name", "Open Soil Lab", "--mode", "member",
                     "--member", v["BOB"], "--period", "2", "--key", a)
    v["DAO"], v["DAO_HEIGHT"] = event(st, "dao")["dao"], st["height"]
    # members are listed in ascending order of the address bytes (= of the hex)
    v["DAO_MEMBER_1"], v["DAO_MEMBER_2"] = sorted((v["ALICE"], v["BOB"]))
    node.cli_tx("dao", "deposit", v["DAO"], "10000", "--key", a)
    out = node.cli("dao", "propose", v["DAO"], "--grant", "--to", v["BOB"],
                   "--milestone", "3000:cleaned soil dataset", "--milestone", "2000:analysis code",
                   "--reviewer", v["ALICE"], "--text", "Soil survey 2026", "--key", a, "--json")
    st = json.JSONDecoder().raw_decode(out[out.index("{"):])[0]
    ev = event(st, "dao")
    v["PROPOSAL"], v["PROPOSAL_HEIGHT"] = ev["proposal"], st["height"]
    v["PROPOSAL_DEADLINE"] = st["height"] + 2
    for k in (a, b):
        node.cli_tx("dao", "vote", v["DAO"], str(v["PROPOSAL"]), "yes", "--key", k)
    while node.result("node_info", {})["height"] < v["PROPOSAL_DEADLINE"]:
        node.cli_tx("faucet", v["FAUCET"], "--amount", "1")        # a block, to move on
    v["EXECUTED_HEIGHT"] = node.cli_tx("dao", "execute", v["DAO"], str(v["PROPOSAL"]),
                                       "--key", b)["height"]
    v["SEEDED_HEIGHT"] = node.result("node_info", {})["height"]

    # last, so that no later transaction of theirs spends these nonces
    cap = Capture(node.url)
    try:
        for frm, to, amount in ((a, v["BOB"], "7"), (b, v["ALICE"], "3")):
            p = subprocess.run([node.pel, "tx", "transfer", "--to", to, "--amount", amount,
                                "--key", frm, "--rpc", cap.url], capture_output=True, text=True,
                               timeout=30)
            if p.returncode == 0:
                raise RuntimeError("the capturing proxy let a transfer through")
    finally:
        cap.close()
    if len(cap.captured) != 2:
        raise RuntimeError("captured %d transactions, want 2" % len(cap.captured))
    v["SIGNED_TX"], v["SIGNED_TX2"] = cap.captured
    v["SIGNED_TX_ID"], v["SIGNED_TX2_ID"] = tx_id(cap.captured[0]), tx_id(cap.captured[1])
    v["SIGNED_TX2_B64"] = base64.b64encode(bytes.fromhex(cap.captured[1])).decode()
    bad = bytearray.fromhex(cap.captured[0])
    bad[-64] ^= 1                         # the signature is the last 64 bytes
    v["BAD_SIG_TX"], v["BAD_SIG_TX_ID"] = bad.hex(), tx_id(bad.hex())
    return v


# ------------------------------------------------------------- the examples

def examples(text):
    """Every ```rpc-example block: (line number, its text)."""
    out, cur, start = [], None, 0
    for n, line in enumerate(text.split("\n"), 1):
        s = line.strip()
        if cur is None and s == "```rpc-example":
            cur, start = [], n
        elif cur is not None and s == "```":
            out.append((start, "\n".join(cur)))
            cur = None
        elif cur is not None:
            cur.append(line)
    if cur is not None:
        out.append((start, None))          # unterminated: reported as a failure
    return out


def substitute(text, values):
    """$NAME -> its value (verbatim); the names nobody seeded are returned."""
    missing = []

    def one(m):
        if m.group(1) not in values:
            missing.append(m.group(0))
            return m.group(0)
        return str(values[m.group(1)])
    return re.sub(r"\$([A-Z][A-Z0-9_]*)", one, text), missing


def bare_ellipsis(text):
    """A … outside every JSON string becomes the string ANY_NUMBER."""
    out, in_str, esc = [], False, False
    for ch in text:
        if in_str:
            out.append(ch)
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
            out.append(ch)
        elif ch == ELLIPSIS:
            out.append(json.dumps(ANY_NUMBER))
        else:
            out.append(ch)
    return "".join(out)


def parse_block(body, values):
    """(request, expected) of a block, or raise ValueError saying why."""
    text, missing = substitute(body, values)
    if missing:
        raise ValueError("unknown placeholder(s) %s" % ", ".join(sorted(set(missing))))
    text = bare_ellipsis(text)
    dec, vals, pos = json.JSONDecoder(), [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            break
        try:
            val, pos = dec.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise ValueError("not JSON after substitution: %s" % e) from None
        vals.append(val)
    if len(vals) != 2:
        raise ValueError("a block holds 2 JSON values (request, answer), this one %d" % len(vals))
    rq, want = vals
    if not isinstance(rq, dict) or not isinstance(rq.get("method"), str) or \
            set(rq) - {"method", "params"}:
        raise ValueError("the request is {\"method\": NAME, \"params\": {...}}")
    return rq, want


def kind(x):
    if isinstance(x, bool):
        return "boolean"
    if x is None:
        return "null"
    return {dict: "object", list: "array", str: "string"}.get(type(x), "number")


def match(want, got, path, errors):
    """Append to errors every way got differs from want (the rule of docs/API.md)."""
    if want == ELLIPSIS:
        if not isinstance(got, str):
            errors.append("%s: want any string, got %s" % (path, json.dumps(got)))
    elif want == ANY_NUMBER:
        if kind(got) != "number":
            errors.append("%s: want any number, got %s" % (path, json.dumps(got)))
    elif isinstance(want, dict):
        if not isinstance(got, dict):
            errors.append("%s: want an object, got %s" % (path, json.dumps(got)))
            return
        open_ = want.get(ELLIPSIS) == ELLIPSIS
        for k, w in want.items():
            if k == ELLIPSIS and open_:
                continue
            if k not in got:
                errors.append("%s.%s: missing" % (path, k))
            else:
                match(w, got[k], "%s.%s" % (path, k), errors)
        extra = sorted(k for k in got if k not in want)
        if extra and not open_:
            errors.append("%s: keys not in the example: %s" % (path, ", ".join(extra)))
    elif isinstance(want, list):
        if not isinstance(got, list):
            errors.append("%s: want an array, got %s" % (path, json.dumps(got)))
            return
        more = bool(want) and want[-1] == ELLIPSIS
        fixed = want[:-1] if more else want
        if len(got) < len(fixed) or (not more and len(got) != len(fixed)):
            errors.append("%s: want %s%d elements, got %d" % (
                path, "at least " if more else "", len(fixed), len(got)))
        for i, w in enumerate(fixed[:len(got)]):
            match(w, got[i], "%s[%d]" % (path, i), errors)
    elif kind(want) != kind(got) or want != got:
        errors.append("%s: want %s, got %s" % (path, json.dumps(want), json.dumps(got)))


def run_block(node, line, body, values, show):
    """One check: the block at `line`; returns the method it exercises."""
    where = "docs/API.md:%d" % line
    if body is None:
        check(False, "%s: rpc-example block never closed" % where)
        return None
    try:
        rq, want = parse_block(body, values)
    except ValueError as e:
        m = re.search(r'"method"\s*:\s*"(\w+)"', body)
        check(False, "%s (%s): %s" % (where, m.group(1) if m else "?", e))
        return None
    method = rq["method"]
    answer = node.call(method, rq.get("params", {}))
    if show:
        print("%s %s %s\n  -> %s" % (where, method, json.dumps(rq.get("params", {})),
                                     json.dumps(answer.get("result", answer), ensure_ascii=False)))
    errors = []
    is_error = isinstance(want, dict) and list(want) == ["error"]
    if is_error and "error" not in answer:
        errors.append("want an error, got result %s" % json.dumps(answer.get("result"))[:300])
    elif not is_error and "result" not in answer:
        errors.append("want a result, got error %s" % json.dumps(answer.get("error")))
    elif is_error:
        match(want["error"], answer["error"], "error", errors)
    else:
        match(want, answer["result"], "result", errors)
    check(not errors, "%s (%s): %s" % (where, method, "; ".join(errors)))
    return method, is_error


def table_methods():
    """The method names of src/rpc/methods.c's table."""
    with open(METHODS_C) as f:
        src = f.read()
    table = re.search(r"pel_rpc_method\s+methods\[\]\s*=\s*\{(.*?)\n\};", src, re.S)
    if not table:
        return []
    return re.findall(r'\{\s*"([a-z_]+)"\s*,', table.group(1))


# ---------------------------------------------------------------------- main

def main():
    global FAILED
    pel = os.environ.get("PEL_BIN") or os.path.join(ROOT, "build", "pel")
    show = bool(os.environ.get("PEL_DOCS_SHOW"))
    with open(os.environ.get("PEL_API_MD") or API_MD, encoding="utf-8") as f:
        doc = f.read()
    blocks = examples(doc)
    methods = table_methods()
    check(len(methods) >= 20, "src/rpc/methods.c: found the method table (%d methods)" % len(methods))
    tmp = tempfile.mkdtemp(prefix="pel-api-docs.")
    node = Node(pel, tmp)
    t0 = time.time()
    try:
        node.start()
        values = seed(node, tmp)
        print("  seeded in %.1f s (height %s)" % (time.time() - t0, values["SEEDED_HEIGHT"]))
        if show:
            for k in sorted(values):
                print("  $%s = %s" % (k, values[k]))
        seen = {}
        for line, body in blocks:
            r = run_block(node, line, body, values, show)
            if r:
                seen.setdefault(r[0], set()).add("error" if r[1] else "result")
        for m in methods:
            check(m in seen, "docs/API.md: no rpc-example block for method %s" % m)
        for m in sorted(set(seen) - set(methods)):
            check(False, "docs/API.md: examples of %s, which src/rpc/methods.c does not have" % m)
        print("  %d example blocks; with an error example: %s" % (
            len(blocks), ", ".join(m for m in methods if "error" in seen.get(m, ()))))
    except Exception:  # noqa: BLE001
        FAILED += 1
        print("FAIL: raised:\n%s" % traceback.format_exc())
        try:
            with open(os.path.join(tmp, "node.log"), errors="replace") as f:
                print("node.log (tail):\n" + f.read()[-2000:])
        except OSError:
            pass
    finally:
        node.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("  %-18s %.1f s" % ("total", time.time() - t0))
    print("test_api_docs: %d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
