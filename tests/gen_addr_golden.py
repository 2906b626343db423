#!/usr/bin/env python3
"""gen_addr_golden.py - regenerate tests/golden/addr.tsv with Python 3.11's
smtpd.SMTPChannel._getaddr (email._header_value_parser's get_angle_addr /
get_addr_spec and the addr_spec they render), and tests/golden/commands.tsv
with the replies of a real smtpd.SMTPChannel to MAIL, RCPT and VRFY lines.

Usage (from the top of the source tree, with Python 3.11, which still has
smtpd and the test package's mock_socket):
    python3 tests/gen_addr_golden.py > tests/golden/addr.tsv
    python3 tests/gen_addr_golden.py commands > tests/golden/commands.tsv

Each line is the input to _getaddr, a TAB, and then either the address and
the rest it returns (TAB-separated) or "!ERROR" where Python raises (the
reference then drops the connection; psmtpd answers the syntax error).
Fields are ASCII: backslash, TAB, CR, LF and other control characters are
escaped as \\\\, \\t, \\r, \\n, \\xNN, and every non-ASCII code point as
\\uXXXX or \\UXXXXXXXX.

commands.tsv: the line, a TAB, the channel's settings as four digits
(extended: EHLO rather than HELO; decode_data; enable_SMTPUTF8;
data_size_limit 1000 rather than 0), a TAB, and the reply, with
"|mailfrom|mail_options" (or the RCPT ones) after a 250; "!CRASH" where
the channel raises (Python drops the connection).

Inputs that hit psmtpd's documented differences (RFC 2047 encoded words,
comments nested deep enough for a RecursionError, NUL) are left out; see
src/smtp_addr.c.
"""
import random
import sys
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        import smtpd
        _getaddr = smtpd.SMTPChannel._getaddr
    except ImportError:           # Python >= 3.12: the same code
        from email._header_value_parser import get_addr_spec, get_angle_addr

        def _getaddr(self, arg):
            if not arg:
                return '', ''
            if arg.lstrip().startswith('<'):
                address, rest = get_angle_addr(arg)
            else:
                address, rest = get_addr_spec(arg)
            if not address:
                return address, rest
            return address.addr_spec, rest

# What clients send, and the cases of CPython's test_smtpd.
HAND = [
    '', 'a', '<>', '<> SIZE=100', '<>SIZE=1', '< >', '<', '>', '<<a@b>>',
    '<a@b>', 'a@b', '<a@b> ', '<a@b>SIZE=1', '<a@b> SIZE=1000',
    '<user@example.com>', 'user@example.com', '<User.Name+tag@Example.COM>',
    '<eggs@example> SIZE=1000000 BODY=8BITMIME',
    '<"Fred Blogs"@example.com> SIZE=1000',
    '<"Fred Blogs"@example.com>', '"Fred Blogs"@example.com',
    '<"Fred\\"Blogs"@example.com>', '<"a\\\\b"@x>', '<"a\\b"@x>',
    '<""@example.com>', '""@example.com', '""', '"', '<">', '<"@x>',
    '<"a b">', '"a b"', '<a.b@c>', '<a..b@c>', '<.a@c>', '<a.@c>',
    'a.@c', 'a..b@c', '.a@b', '<a@b.>', '<a@.b>', '<a@b..c>', 'a@b.',
    '<a@[127.0.0.1]>', '<a@[IPv6:::1]>', '<a@[ 1.2.3.4 ]>', '<a@[1 2]>',
    '<a@[]>', '<a@[>', 'a@[', 'a@[1', 'a@[1 ', '<a@[a\\]b]>', '<a@[a[b]>',
    '<@a,@b:c@d>', '<@a:c@d>', '<@a,,@b:c@d>', '<,@a:c@d>', '<@a c@d>',
    '<@a,>', '<@a, >', '<@[1]:c@d>', '<@a:>', '<:c@d>',
    '<a (comment) @b>', '<(c)a@b>', '<a@(c)b>', '<a@b(c)>', '<a@b> (c)',
    '<a@b> (c) SIZE=1', '(c)<a@b>', ' <a@b>', '\t<a@b>', '<a@b',
    '<a@b x', '<a b@c>', 'a b@c', 'a b c', '<a\\b@c>', 'a\\b@c',
    '\\', '\\a', '<a@b@c>', 'a@b@c', '<a@b .c>', '<a@b. c>', '<a@b . c>',
    '<a@b .c@d>', '<a@b(c).d>', '@b', '<@b>', '<a@>', 'a@', 'a@ ',
    '<a,b@c>', 'a,b@c', 'a:b@c', 'a;b@c', '<a:b@c>', '<a;b>',
    'postmaster', '<postmaster>', '<Postmaster@[1.2.3.4]>',
    '<jöran@exämple.com>', 'jöran@exämple.com', '<ü>', '<a@b\u00a0c>',
    '<a\u00a0b@c>', '<a@b\u3000>', '<a@b\x0bc>', '<a\x0bb@c>',
    '\x0b<a@b>', '\u00a0<a@b>', '<a@b>\x0b', '<a@b>\u2028x',
    '<a@b\r\nx>', '<a\x01b@c>', '<a\x7fb@c>', '<a@b\tSIZE=1>',
    '<"a\tb"@c>', '<"a  b"@c>', '<" a"@c>', '<"a\\ b"@c>', '<"a\\',
    '<"a@b>', '<"a"b@c>', '<a"b"@c>', '<"a"."b"@c>', '<"a".b@c>',
    '<a."b"@c>', '<a. b@c>', '<a .b@c>', '<a . b@c>', '<a(x).b@c>',
    '<a.(x)b@c>', '<(x)a.b(y)@c>', '< a@b>', '<a@b >', '< a@b >',
    '<a(x(y)z)@b>', '<a(x\\)y)@b>', '<a(unterminated@b>', '<a@b(unterm',
    '<a@b> SIZE=1 BODY=8BITMIME SMTPUTF8', '<a@b>,<c@d>', '<a@b>:',
    'a@b SIZE=1', 'a@b  SIZE=1', 'a (c) b@d', 'a\\ b@c', '"a"@b c',
    '<a@b\\c>', '<a@"b">', '<a@b"c">', 'a@b"c"', '<a@b;c>', 'a@b>c',
    '<a@-b>', '<a@b_c>', '<=?a@b>', '<a@b?=>', '<.>', '.', '..', '<..>',
    '<a.\\b@c>', '<\\@b>', '<a\\@b>', '<a\\\\@b>', '<a.(x)@b>', 'a.(x)',
    '<a. >', '<a .>', 'a.', 'a. ', '<@>', '<,>', '<:>', '<;>', '<[>',
    '<]>', '<)>', '<(>', '<)a@b>', '<[a]@b>', '<a[b]@c>',
]

PIECES = [
    'a', 'foo', 'b.c', 'x-y', 'ü', '"q s"', '"a\\"b"', '""', '"', '(c)',
    '(a(b)c)', '(', ')', ' ', '  ', '\t', '\x0b', '\u00a0', '\u3000', '.',
    '..', '@', '@', '@', '<', '>', '<', '>', '[1.2.3.4]', '[', ']', ',',
    ':', ';', '\\', ' SIZE=100', 'x@y', '@r:', '@r,', 'example.com',
    'user', '"', '\\"', '=', '+', '#', '%',
]

REAL_LOCAL = ['user', 'first.last', 'u+tag', '"quoted name"', 'O\'Brien',
              '"a\\\\b"', 'x', 'postmaster', 'ü.ser', '"a@b"']
REAL_DOMAIN = ['example.com', 'mx.example.org', '[192.0.2.1]',
               '[IPv6:2001:db8::1]', 'localhost', 'xn--bcher-kva.example',
               'exämple.com']
REAL_REST = ['', ' SIZE=1000', ' BODY=8BITMIME', ' SMTPUTF8',
             ' SIZE=10 BODY=7BIT', '  size=1', ' X=Y Z']


class Grammar:
    """Random addresses along RFC 5322's grammar (CFWS, comments, quoted
    strings, obs-local-part, obs-domain, domain literals, obs-route), with
    breakage sprinkled in."""
    WS = [' ', '\t', '  ', ' \x0b', '\u00a0', ' \u3000', '\x1c', ' \r\n ']
    ATEXT = ['a', 'b', 'Z', '1', '-', '+', '=', '#', '\u00fc', '\x0b',
             '\u00a0', '!', '~']
    QTEXT = ['a', ' ', '\t', '\\"', '\\\\', '\\a', '\\ ', '@', '<', '>',
             '(', '.', '\u00fc', '\u3000', '\\']

    def __init__(self, rng):
        self.rng = rng

    def pick(self, choices):
        return self.rng.choice(choices)

    def cfws(self, depth=0):
        r = self.rng.random()
        if r < 0.5:
            return ''
        if r < 0.75:
            return self.pick(self.WS)
        return self.pick(['', ' ']) + self.comment(depth) + \
            self.pick(['', ' '])

    def comment(self, depth):
        parts = []
        for _ in range(self.rng.randint(0, 3)):
            r = self.rng.random()
            if r < 0.2 and depth < 3:
                parts.append(self.comment(depth + 1))
            elif r < 0.35:
                parts.append('\\' + self.pick('()\\a '))
            elif r < 0.5:
                parts.append(self.pick(self.WS))
            else:
                parts.append(self.pick(['x', '\u00fc', 'a b', '"', '<', '@']))
        return '(' + ''.join(parts) + self.pick([')', ')', ')', ''])

    def atext(self):
        return ''.join(self.pick(self.ATEXT)
                       for _ in range(self.rng.randint(1, 4)))

    def word(self):
        if self.rng.random() < 0.3:
            core = '"' + ''.join(self.pick(self.QTEXT) for _ in
                                 range(self.rng.randint(0, 4))) + \
                self.pick(['"', '"', '"', ''])
        else:
            core = self.atext()
        return self.cfws() + core + self.cfws()

    def local(self):
        s = self.word() + ''.join(
            self.pick(['.', '.', '..', ' ', '\\', '', '. ']) + self.word()
            for _ in range(self.rng.randint(0, 3)))
        if self.rng.random() < 0.1:
            s = self.pick(['.', '\\', '"']) + s
        return s

    def domain(self):
        if self.rng.random() < 0.2:
            return self.cfws() + '[' + self.pick(['', ' ']) + \
                self.pick(['1.2.3.4', 'a\\]b', '', 'IPv6::1', 'x\u3000y',
                           'a\\ ']) + self.pick(['', ' ']) + \
                self.pick([']', ']', '', '[']) + self.cfws()
        return self.cfws() + self.atext() + self.cfws() + ''.join(
            self.pick(['.', '.', '..', ' .', '. ']) + self.cfws() +
            self.atext() + self.cfws()
            for _ in range(self.rng.randint(0, 3)))

    def route(self):
        s = self.pick(['', ',', ' ,']) + '@' + self.domain()
        for _ in range(self.rng.randint(0, 2)):
            s += ',' + self.cfws() + self.pick(['@' + self.domain(), '', ' '])
        return s + self.pick([':', ':', '', ';'])

    def address(self):
        s = self.local()
        if self.rng.random() < 0.9:
            s += '@' + self.domain()
        if self.rng.random() < 0.5:
            route = self.route() if self.rng.random() < 0.2 else ''
            s = self.cfws() + '<' + route + s + \
                self.pick(['>', '>', '>', '']) + self.cfws()
        if self.rng.random() < 0.3:
            s += self.pick([' SIZE=1', 'x', '>', ' <a@b>'])
        return s


def generated(rng):
    """Realistic forms, random concatenations of hostile pieces, then
    addresses along the grammar."""
    out = []
    for lp in REAL_LOCAL:
        for dom in REAL_DOMAIN:
            rest = rng.choice(REAL_REST)
            out.append('<%s@%s>%s' % (lp, dom, rest))
            out.append('%s@%s%s' % (lp, dom, rest))
    for _ in range(450):
        n = rng.randint(1, 8)
        s = ''.join(rng.choice(PIECES) for _ in range(n))
        if rng.random() < 0.5:
            s = '<' + s
        out.append(s)
    grammar = Grammar(rng)
    out.extend(grammar.address() for _ in range(400))
    return out


def escape(s):
    res = []
    for ch in s:
        o = ord(ch)
        if ch == '\\':
            res.append('\\\\')
        elif ch == '\t':
            res.append('\\t')
        elif ch == '\n':
            res.append('\\n')
        elif ch == '\r':
            res.append('\\r')
        elif o < 0x20 or o == 0x7f:
            res.append('\\x%02x' % o)
        elif o < 0x80:
            res.append(ch)
        elif o < 0x10000:
            res.append('\\u%04x' % o)
        else:
            res.append('\\U%08x' % o)
    return ''.join(res)


def answer(arg):
    """The golden line's fields after the input, or None to leave it out."""
    if '=?' in arg or '\0' in arg:
        return None
    try:
        address, rest = _getaddr(None, arg)
    except RecursionError:
        return None
    except Exception:             # HeaderParseError, IndexError, ...
        return ['!ERROR']
    if not arg.endswith(rest):
        raise SystemExit('rest is not a suffix of %r' % arg)
    return [escape(address), escape(rest)]


REPLY_HEADS = ['MAIL FROM:', 'mail from: ', 'MAIL from:', 'RCPT TO:',
               'rcpt to: ', 'VRFY ', 'MAIL ', 'RCPT ', 'MAIL FROM', 'VRFY',
               'mail From:  ', 'Rcpt To:']
REPLY_OPTS = ['', ' SIZE=100', ' size=2000', ' SIZE', ' SIZE=', ' SIZE=x',
              ' BODY=8BITMIME', ' body=7bit', ' BODY', ' BODY=x',
              ' SMTPUTF8', ' SMTPUTF8=1', ' X=1', ' X-Y=1', ' =', ' SIZE=0',
              ' SIZE=99999999999999999999', ' SIZE=1 SIZE=y', '\t']
REPLY_CHARS = list('<>@."\\() \tabAB=:,[]') + ['\x0b', '\u00a0', '\u3000',
                                                 '\x1c']
SETTINGS = ['1000', '1010', '1100', '1001', '0000', '0001']


def reply_lines(rng):
    """MAIL/RCPT/VRFY lines: test_smtpd's, then generated ones."""
    out = ['MAIL From:eggs@example', 'MAIL from eggs@example', 'MAIL from:',
           'MAIL from:<eggs@example>', 'MAIL from:<>',
           'MAIL from: <"Fred Blogs"@example.com>',
           'MAIL from: "Fred Blogs"@example.com',
           'MAIL from: <"Fred Blogs"@example.com> SIZE=1000',
           'MAIL from: "Fred Blogs"@example.com SIZE=1000',
           'MAIL FROM:<eggs@example> SIZE=512',
           'MAIL FROM:<eggs@example> SIZE=invalid',
           'MAIL FROM:<eggs@example> ham=green',
           'MAIL FROM:<eggs@example> SIZE=2096',
           'MAIL from:   <foo@example.com> size=20',
           'MAIL from: <naive@example.com> BODY=8BITMIME SMTPUTF8',
           'MAIL From: naïve@examplé BODY=8BITMIME SMTPUTF8',
           'RCPT To:späm@examplé', 'RCPT to eggs@example',
           'RCPT to: <eggs@example>', 'RCPT TO:<eggs@example> ham=green',
           'RCPT to:spam@example', 'RCPT', 'MAIL', 'VRFY eggs@example',
           'VRFY', 'VRFY <>', 'VRFY ""', 'VRFY <a@b.>']
    for _ in range(700):
        r = rng.random()
        if r < 0.3:
            a = (rng.choice(['<', '', ' <', '  ']) + rng.choice(REAL_LOCAL) +
                 '@' + rng.choice(REAL_DOMAIN) +
                 rng.choice(['>', '', '> ', '>(c)']))
        elif r < 0.6:
            a = ''.join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))
        else:
            a = ''.join(rng.choice(REPLY_CHARS)
                        for _ in range(rng.randint(0, 10)))
        o = ''.join(rng.choice(REPLY_OPTS) for _ in range(rng.randint(0, 3)))
        out.append(rng.choice(REPLY_HEADS) + a + o)
    return out


def channel_reply(line, settings):
    """What a fresh SMTPChannel answers to line after HELO/EHLO (and, for
    RCPT, a MAIL), as the golden field."""
    import asyncore
    from test import mock_socket
    smtpd.socket = asyncore.socket = mock_socket
    extended, dd, utf8, limit = (c == '1' for c in settings)
    server = smtpd.SMTPServer(('127.0.0.1', 0), ('b', 0), decode_data=dd,
                              enable_SMTPUTF8=utf8)
    conn, addr = server.accept()
    ch = smtpd.SMTPChannel(server, conn, addr, decode_data=dd,
                           enable_SMTPUTF8=utf8,
                           data_size_limit=1000 if limit else 0)

    def write(data):
        ch.socket.queue_recv(data)
        ch.handle_read()
    write(b'EHLO x' if extended else b'HELO x')
    verb = line.split(' ', 1)[0].upper()
    if verb == 'RCPT':
        write(b'MAIL FROM:<m@x>')
    try:
        write(line.encode('utf-8'))
    except Exception:
        return '!CRASH'
    reply = ch.socket.last.decode('utf-8').rstrip('\r\n')
    if reply.startswith('250') and verb == 'MAIL':
        reply += '|%s|%s' % (ch.mailfrom, ' '.join(ch.mail_options))
    elif reply.startswith('250') and verb == 'RCPT':
        reply += '|%s|%s' % (ch.rcpttos[-1], ' '.join(ch.rcpt_options))
    return reply


def upper_to_ascii(c):
    """True for a non-ASCII character that str.upper() maps to ASCII
    (U+017F to S, U+00DF to SS...): ASCII upper-casing keeps it."""
    return not c.isascii() and any(x.isascii() for x in c.upper())


def main_commands():
    rng = random.Random(5322)
    seen = set()
    print('# generated by tests/gen_addr_golden.py commands with Python '
          '%d.%d.%d; do not edit' % sys.version_info[:3])
    print('# line<TAB>extended,decode_data,smtputf8,limit<TAB>reply')
    for line in reply_lines(rng):
        if line in seen or '=?' in line:
            continue
        seen.add(line)
        settings = rng.choice(SETTINGS)
        reply = channel_reply(line, settings)
        # psmtpd upper-cases options in ASCII only (a documented
        # difference): leave out the replies that show it.
        if reply.startswith('250') and not reply.split('|')[2].isascii():
            continue
        if any(upper_to_ascii(c) for c in line):
            continue
        print('%s\t%s\t%s' % (escape(line), settings, escape(reply)))


def main():
    if sys.argv[1:] == ['commands']:
        main_commands()
        return
    rng = random.Random(5321)
    seen = set()
    print('# generated by tests/gen_addr_golden.py with Python %d.%d.%d; '
          'do not edit' % sys.version_info[:3])
    print('# input<TAB>address<TAB>rest  or  input<TAB>!ERROR')
    for arg in HAND + generated(rng):
        if arg in seen:
            continue
        seen.add(arg)
        fields = answer(arg)
        if fields is not None:
            print('\t'.join([escape(arg)] + fields))


if __name__ == '__main__':
    main()
