#!/usr/bin/python3
"""relay_upstream.py - a small SMTP responder with STARTTLS and AUTH, the
upstream of the proxy plugin's smarthost tests (until psmtpd itself has
them on main).  It serves connections one after another on 127.0.0.1,
writes its port to --port-file, and records what each session did to
--capture: "TLS <version>", "AUTH <mechanism> <user> ok|bad", each
command as received (AUTH arguments left out) and each message.

Usage: relay_upstream.py --port-file F --capture F [--cert C --key K]
       [--starttls] [--auth user:password] [--mechs PLAIN,LOGIN]
       [--lifetime SECONDS]
"""
import argparse
import base64
import socket
import ssl
import sys
import time


class Session:
    def __init__(self, conn, args, capture):
        self.args, self.capture = args, capture
        self.sock, self.tls, self.authed = conn, False, False
        self.rfile = conn.makefile("rb")

    def say(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def line(self):
        data = self.rfile.readline(4096)
        if not data:
            raise EOFError
        return data.rstrip(b"\r\n").decode("utf-8", "replace")

    def note(self, text):
        self.capture.write(text + "\n")
        self.capture.flush()

    def ehlo(self):
        lines = ["fake.upstream"]
        if self.args.starttls and not self.tls:
            lines.append("STARTTLS")
        if self.args.auth:
            lines.append("AUTH " + " ".join(self.args.mechs.split(",")))
        lines.append("8BITMIME")
        for i, l in enumerate(lines):
            self.say(("250 " if i == len(lines) - 1 else "250-") + l)

    def starttls(self):
        self.say("220 go ahead")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.args.cert, self.args.key)
        self.sock = ctx.wrap_socket(self.sock, server_side=True)
        self.rfile = self.sock.makefile("rb")
        self.tls = True
        self.note("TLS " + self.sock.version())

    def check(self, mech, user, password):
        want_user, want_pass = self.args.auth.split(":", 1)
        ok = user == want_user and password == want_pass
        self.note("AUTH %s %s %s" % (mech, user, "ok" if ok else "bad"))
        self.authed = ok
        self.say("235 2.7.0 ok" if ok else "535 5.7.8 bad credentials")

    def auth(self, arg):
        parts = arg.split()
        mech = parts[0].upper() if parts else ""
        if mech not in self.args.mechs.split(","):
            self.say("504 unknown mechanism")
        elif mech == "PLAIN":
            raw = base64.b64decode(parts[1]) if len(parts) > 1 else b""
            _, user, password = (raw.split(b"\0") + [b"", b""])[:3]
            self.check(mech, user.decode(), password.decode())
        else:
            self.say("334 VXNlcm5hbWU6")
            user = base64.b64decode(self.line()).decode()
            self.say("334 UGFzc3dvcmQ6")
            self.check(mech, user, base64.b64decode(self.line()).decode())

    def data(self):
        self.say("354 go ahead")
        body = []
        while True:
            l = self.line()
            if l == ".":
                break
            body.append(l)
        self.note("MESSAGE " + "|".join(body))
        self.say("250 2.0.0 queued")

    def run(self):
        self.say("220 fake.upstream ESMTP")
        while True:
            l = self.line()
            verb, _, arg = l.partition(" ")
            verb = verb.upper()
            self.note(verb if verb == "AUTH" else l)
            if verb == "EHLO":
                self.ehlo()
            elif verb == "STARTTLS" and self.args.starttls and not self.tls:
                self.starttls()
            elif verb == "AUTH" and self.args.auth:
                self.auth(arg)
            elif verb == "MAIL" and self.args.auth and not self.authed:
                self.say("530 5.7.0 authentication required")
            elif verb == "DATA":
                self.data()
            elif verb == "QUIT":
                self.say("221 bye")
                return
            else:
                self.say("250 ok")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--capture", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--starttls", action="store_true")
    p.add_argument("--auth")
    p.add_argument("--mechs", default="PLAIN,LOGIN")
    p.add_argument("--lifetime", type=float, default=60)
    args = p.parse_args()
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    end = time.monotonic() + args.lifetime
    capture = open(args.capture, "a")
    while time.monotonic() < end:
        lsock.settimeout(max(0.1, end - time.monotonic()))
        try:
            conn, _ = lsock.accept()
        except socket.timeout:
            break
        conn.settimeout(10)
        try:
            Session(conn, args, capture).run()
        except (EOFError, OSError, ssl.SSLError, ValueError) as e:
            capture.write("END %s\n" % type(e).__name__)
            capture.flush()
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
