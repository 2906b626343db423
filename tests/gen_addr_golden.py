#!/usr/bin/env python3
"""gen_addr_golden.py - regenerate tests/golden/addr.tsv with Python 3.11's
smtpd.SMTPChannel._getaddr (email._header_value_parser's get_angle_addr /
get_addr_spec and the addr_spec they render).

Usage (from the top of the source tree, with Python 3.11, which still has
smtpd):  python3 tests/gen_addr_golden.py > tests/golden/addr.tsv

Each line is the input to _getaddr, a TAB, and then either the address and
the rest it returns (TAB-separated) or "!ERROR" where Python raises (the
reference then drops the connection; psmtpd answers the syntax error).
Fields are ASCII: backslash, TAB, CR, LF and other control characters are
escaped as \\\\, \\t, \\r, \\n, \\xNN, and every non-ASCII code point as
\\uXXXX or \\UXXXXXXXX.

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


def generated(rng):
    """Realistic forms, then random concatenations of hostile pieces."""
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


def main():
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
