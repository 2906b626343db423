#!/usr/bin/python3
"""tls_source.py - smtp-source over STARTTLS, for contrib/bench/run --tls.

usage: tls_source.py [-r] -s SESSIONS -m COUNT -l SIZE HOST:PORT

SESSIONS processes send COUNT messages in all, each message over a new
connection: greeting, EHLO, STARTTLS, the handshake, EHLO, MAIL, RCPT,
DATA, QUIT.  With -r each process resumes the TLS session of its previous
connection (a ticket), so every handshake but the first is abbreviated;
without it every handshake is full.  The server's certificate is not
verified (a benchmark on loopback).  Exits 1 if any message was not
accepted with 250.
"""
import argparse
import multiprocessing
import socket
import ssl
import sys


def reply(f):
    """Read one SMTP reply; its code."""
    while True:
        line = f.readline()
        if len(line) < 4:
            raise OSError("connection closed")
        if line[3:4] != b"-":
            return int(line[:3])


def command(f, sock, line, want):
    sock.sendall(line + b"\r\n")
    code = reply(f)
    if code != want:
        raise OSError("%r: %d" % (line, code))


def one_message(host, port, ctx, session, body):
    """One connection, one message; the TLS session for the next."""
    raw = socket.create_connection((host, port), timeout=30)
    # each command is one small write: no Nagle delay between them
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        f = raw.makefile("rb")
        if reply(f) != 220:
            raise OSError("no greeting")
        command(f, raw, b"EHLO bench.example", 250)
        command(f, raw, b"STARTTLS", 220)
        tls = ctx.wrap_socket(raw, server_hostname="bench.example",
                              session=session)
        f = tls.makefile("rb")
        command(f, tls, b"EHLO bench.example", 250)
        command(f, tls, b"MAIL FROM:<bench@example.org>", 250)
        command(f, tls, b"RCPT TO:<sink@example.org>", 250)
        command(f, tls, b"DATA", 354)
        tls.sendall(body)
        code = reply(f)
        command(f, tls, b"QUIT", 221)
        return code, tls.session, tls.session_reused
    finally:
        raw.close()


def worker(args):
    host, port, count, size, resume = args
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    body = b"Subject: bench\r\n\r\n" + b"x" * max(0, size - 20) + \
        b"\r\n.\r\n"
    session, ok, reused = None, 0, 0
    for _ in range(count):
        code, new, was = one_message(host, port, ctx, session, body)
        ok += code == 250
        reused += was
        if resume:
            session = new
    return ok, reused


def main():
    p = argparse.ArgumentParser()
    p.add_argument("-r", action="store_true", help="resume sessions")
    p.add_argument("-s", type=int, default=10)
    p.add_argument("-m", type=int, default=1000)
    p.add_argument("-l", type=int, default=1024)
    p.add_argument("server")
    a = p.parse_args()
    host, port = a.server.rsplit(":", 1)
    per = [a.m // a.s + (i < a.m % a.s) for i in range(a.s)]
    with multiprocessing.Pool(a.s) as pool:
        done = pool.map(worker, [(host, int(port), n, a.l, a.r)
                                 for n in per])
    ok = sum(d[0] for d in done)
    reused = sum(d[1] for d in done)
    print("messages=%d accepted=%d resumed=%d" % (a.m, ok, reused))
    return 0 if ok == a.m else 1


if __name__ == "__main__":
    sys.exit(main())
