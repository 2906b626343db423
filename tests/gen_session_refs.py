#!/usr/bin/env python3
"""gen_session_refs.py - run each tests/sessions/*.in through Python 3.11's
real smtpd.SMTPChannel and write the replies to the matching .ref file.

A .in file: an optional first line "# options: key=value ..." (data_size_limit,
decode_data, enable_SMTPUTF8, as SMTPChannel takes them), then one client line
per line; CRLF is appended to each unless the line ends in "\\c"; escapes \\r
\\n \\t \\xNN \\\\ give raw bytes.  Lines starting with "#" are comments.

A .ref file: the server's bytes split at CRLF, each piece escaped (printable
ASCII as is), one per line; the greeting's text after the host name is
"GREETING" and the host name is "FQDN".  Then one "-- message" line per
message that process_message received.  Sessions where psmtpd deliberately
differs from the reference (DESIGN.md) have a hand-written .ref and are
listed in HAND_WRITTEN; this script leaves them alone, and those of the
extensions Python lacks (options esmtp.NAME=1, lmtp=1), which quote the RFC.

Usage: python3 tests/gen_session_refs.py [tests/sessions]
"""
import os
import re
import socket
import sys
import threading
import time
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
import asyncore  # noqa: E402
import smtpd  # noqa: E402

HAND_WRITTEN = {"data_too_much", "data_empty_message", "invalid_utf8_command",
                "reference_crashes", "reply_injection", "nul_verb_path"}


def unescape(text):
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "x":
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
                continue
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}[n]
            i += 2
            continue
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


def escape(data):
    out = []
    for b in data:
        if b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x0D:
            out.append("\\r")
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def read_session(path):
    options = {}
    payload = bytearray()
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        if line.startswith("# options:"):
            for kv in line[len("# options:"):].split():
                k, v = kv.split("=")
                options[k] = int(v)
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\c"):
            payload += unescape(line[:-2])
        else:
            payload += unescape(line) + b"\r\n"
    return options, bytes(payload)


def message_line(mailfrom, rcpttos, data, mail_options, rcpt_options):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return "-- message from=%s to=%s mail_options=%s rcpt_options=%s data=%s" % (
        escape(str(mailfrom).encode()), escape(",".join(rcpttos).encode()),
        ",".join(mail_options), ",".join(rcpt_options), escape(data))


class CrashChannel(smtpd.SMTPChannel):
    """Records that the reference raised (it then drops the connection)."""
    def handle_error(self):
        self.smtp_server.crashed = sys.exc_info()[1]
        self.handle_close()


class Recorder(smtpd.SMTPServer):
    channel_class = CrashChannel

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.messages = []
        self.crashed = None

    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        self.messages.append(message_line(
            mailfrom, list(rcpttos), data, kw.get("mail_options", []),
            kw.get("rcpt_options", [])))
        return None


def run(options, payload):
    kw = {"data_size_limit": options.get("data_size_limit", 33554432),
          "decode_data": bool(options.get("decode_data", 0)),
          "enable_SMTPUTF8": bool(options.get("enable_SMTPUTF8", 0))}
    server = Recorder(("127.0.0.1", 0), ("127.0.0.1", 25), **kw)
    port = server.socket.getsockname()[1]
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            asyncore.loop(timeout=0.05, count=1, map=server._map)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    c.sendall(payload)
    c.shutdown(socket.SHUT_WR)
    got = bytearray()
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            chunk = c.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        got += chunk
    c.close()
    stop.set()
    t.join(2)
    server.close()
    if server.crashed is not None:
        raise RuntimeError("the reference raised %r" % server.crashed)
    return bytes(got), server.messages


def normalize(replies):
    fqdn = socket.getfqdn().encode()
    pieces = replies.split(b"\r\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    out = []
    for i, p in enumerate(pieces):
        if i == 0 and p.startswith(b"220 "):
            p = b"220 FQDN GREETING"
        p = re.sub(re.escape(fqdn), b"FQDN", p)
        out.append(escape(p))
    return out


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "sessions")
    failed = False
    for name in sorted(os.listdir(d)):
        if not name.endswith(".in") or name[:-3] in HAND_WRITTEN:
            continue
        options, payload = read_session(os.path.join(d, name))
        if any(k.startswith("esmtp.") or k == "lmtp" for k in options):
            continue  # an extension Python lacks: hand-written
        try:
            replies, messages = run(options, payload)
        except RuntimeError as e:
            print("%s: %s; move that input to a hand-written session"
                  % (name, e), file=sys.stderr)
            failed = True
            continue
        lines = normalize(replies) + messages
        with open(os.path.join(d, name[:-3] + ".ref"), "w") as f:
            f.write("\n".join(lines) + "\n")
        print("wrote", name[:-3] + ".ref")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
