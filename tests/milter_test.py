#!/usr/bin/python3
"""milter_test.py - a scriptable milter for the milter plugin's tests,
written with Debian's python3-milter (run it with /usr/bin/python3).

usage: milter_test.py SOCKET SCRIPT LOG

SOCKET is libmilter's form (inet:PORT@127.0.0.1).  Every event the milter
gets is appended to LOG, one line each ("connect ...", "helo ...",
"header Name: value", "eom i=... body='...'"), with the macros the test
looks for ({tls_version}, {cipher}, {cert_subject} and {auth_authen} only
when they were sent), so the test can check what psmtpd sent.  SCRIPT says what it
answers, one rule a line ('#' starts a comment):

    option nocallback STEP    do not want STEP (connect, hello, envfrom,
                              envrcpt, data, header, eoh, body)
    option noreply STEP       want STEP but send no reply to it
    option symlist STAGE M..  ask only for macros M.. at STAGE (connect,
                              helo, envfrom, envrcpt, data, eom)
    STAGE ACTION ARGS...      at STAGE (connect, helo, mail, rcpt, data,
                              header, eoh, body, eom) do ACTION

ACTIONs that decide (the last one of a stage counts; default continue):
continue, accept, reject, tempfail, discard, skip (body only),
reply CODE XCODE TEXT... (setreply), hang SECONDS (sleep, then continue).
ACTIONs of eom only, done in order before the verdict: addheader NAME
VALUE, insheader IDX NAME VALUE, chgheader NAME IDX VALUE, delheader NAME
IDX, chgfrom ADDR, addrcpt ADDR, delrcpt ADDR, replbody TEXT (\\n for a
line end), quarantine REASON, progress N SECONDS (N progress calls, SECONDS
apart).  A rule "rcpt ACTION ... @ADDR" applies only to that recipient.

The actions the script uses are the only ones the milter asks for in the
negotiation, so it runs against servers that offer few.
"""
import sys
import time

import Milter

SOCKET, SCRIPT, LOG = sys.argv[1:4]

EDITS = {
    'addheader': Milter.ADDHDRS, 'insheader': Milter.ADDHDRS,
    'chgheader': Milter.CHGHDRS, 'delheader': Milter.CHGHDRS,
    'chgfrom': Milter.CHGFROM, 'addrcpt': Milter.ADDRCPT,
    'delrcpt': Milter.DELRCPT, 'replbody': Milter.CHGBODY,
    'quarantine': Milter.QUARANTINE, 'progress': 0,
}
STEPS = {
    'connect': (Milter.P_NR_CONN, Milter.P_NOCONNECT),
    'hello': (Milter.P_NR_HELO, Milter.P_NOHELO),
    'envfrom': (Milter.P_NR_MAIL, Milter.P_NOMAIL),
    'envrcpt': (Milter.P_NR_RCPT, Milter.P_NORCPT),
    'data': (Milter.P_NR_DATA, Milter.P_NODATA),
    'header': (Milter.P_NR_HDR, Milter.P_NOHDRS),
    'eoh': (Milter.P_NR_EOH, Milter.P_NOEOH),
    'body': (Milter.P_NR_BODY, Milter.P_NOBODY),
}


def read_script(path):
    # python-milter's protocol mask: the step bits it does NOT ask for
    # (the steps it wants and answers); it asks for the rest it is offered
    rules, flags, mask = [], 0, Milter.P_RCPT_REJ | Milter.P_HDR_LEADSPC
    off, syms = {}, {}
    with open(path) as f:
        for line in f:
            words = line.split('#', 1)[0].split()
            if not words:
                continue
            if words[:2] == ['option', 'symlist']:
                syms[words[2]] = words[3:]
                flags |= Milter.SETSYMLIST
                continue
            if words[0] == 'option':
                nr, nc = STEPS[words[2]]
                off[words[2]] = nr | nc if words[1] == 'nocallback' else nr
                continue
            rules.append(words)
            flags |= EDITS.get(words[1], 0)
    for step, (nr, nc) in STEPS.items():
        mask |= (nr | nc) & ~off.get(step, 0)
    return rules, flags, mask, syms


RULES, FLAGS, MASK, SYMS = read_script(SCRIPT)
STAGE_METHODS = {'connect': 'connect', 'helo': 'hello', 'envfrom': 'envfrom',
                 'envrcpt': 'envrcpt', 'data': 'data', 'eom': 'eom'}


def log(*words):
    with open(LOG, 'a') as f:
        f.write(' '.join(str(w) for w in words) + '\n')


class ScriptMilter(Milter.Base):
    _protocol_mask = MASK

    def __init__(self):
        self.text = b''

    def setsymlist(self, stage, *macros):
        # python3-milter 1.0.5 passes bytes where its C module wants str
        return self._ctx.setsymlist(stage, ' '.join(macros))

    def sym(self, name):
        return '%s=%s' % (name, self.getsymval(name))

    def present(self, *names):
        # the TLS and AUTH macros, logged only when sent (a session
        # without TLS or AUTH logs as before)
        return [self.sym(n) for n in names if self.getsymval(n) is not None]

    def rules(self, stage, rcpt=None):
        for words in RULES:
            if words[0] != stage:
                continue
            if words[-1].startswith('@') and rcpt is not None:
                if words[-1][1:] != rcpt.strip('<>'):
                    continue
                words = words[:-1]
            yield words[1:]

    def verdict(self, stage, rcpt=None):
        result = Milter.CONTINUE
        for action in self.rules(stage, rcpt):
            result = self.decide(action, result)
        return result

    def decide(self, a, result):
        verdicts = {'continue': Milter.CONTINUE, 'accept': Milter.ACCEPT,
                    'reject': Milter.REJECT, 'tempfail': Milter.TEMPFAIL,
                    'discard': Milter.DISCARD, 'skip': Milter.SKIP}
        if a[0] in verdicts:
            return verdicts[a[0]]
        if a[0] == 'reply':
            self.setreply(a[1], a[2], ' '.join(a[3:]))
            return Milter.REJECT if a[1][0] == '5' else Milter.TEMPFAIL
        if a[0] == 'hang':
            time.sleep(float(a[1]))
            return Milter.CONTINUE
        return result

    def connect(self, hostname, family, hostaddr):
        log('connect', hostname, hostaddr[0], self.sym('j'),
            self.sym('{client_addr}'), self.sym('{client_name}'),
            self.sym('{daemon_name}'))
        return self.verdict('connect')

    def hello(self, hostname):
        log('helo', hostname,
            *self.present('{tls_version}', '{cipher}', '{cert_subject}'))
        return self.verdict('helo')

    def envfrom(self, f, *args):
        log('mail', f, list(args), self.sym('i'), self.sym('{mail_addr}'),
            *self.present('{auth_authen}'))
        return self.verdict('mail')

    def envrcpt(self, to, *args):
        log('rcpt', to, list(args), self.sym('{rcpt_addr}'))
        return self.verdict('rcpt', to)

    def data(self):
        log('data', self.sym('i'))
        return self.verdict('data')

    def header(self, name, value):
        log('header %s: %r' % (name, value))
        return self.verdict('header')

    def eoh(self):
        log('eoh')
        return self.verdict('eoh')

    def body(self, chunk):
        log('body', len(chunk))
        self.text += chunk
        return self.verdict('body')

    def eom(self):
        log('eom', self.sym('i'), 'body=%r' % self.text)
        for a in self.rules('eom'):
            self.edit(a)
        return self.verdict('eom')

    def edit(self, a):
        op, args = a[0], a[1:]
        if op == 'addheader':
            self.addheader(args[0], ' '.join(args[1:]))
        elif op == 'insheader':
            self.addheader(args[1], ' '.join(args[2:]), int(args[0]))
        elif op == 'chgheader':
            self.chgheader(args[0], int(args[1]), ' '.join(args[2:]))
        elif op == 'delheader':
            self.chgheader(args[0], int(args[1]), None)
        elif op == 'chgfrom':
            self.chgfrom(args[0])
        elif op == 'addrcpt':
            self.addrcpt(args[0])
        elif op == 'delrcpt':
            self.delrcpt(args[0])
        elif op == 'replbody':
            self.replacebody(' '.join(args).replace('\\n', '\r\n').encode())
        elif op == 'quarantine':
            self.quarantine(' '.join(args))
        elif op == 'progress':
            for _ in range(int(args[0])):
                time.sleep(float(args[1]))
                self.progress()

    def abort(self):
        log('abort')
        return Milter.CONTINUE

    def close(self):
        log('close')
        return Milter.CONTINUE


def main():
    for stage, names in SYMS.items():
        # python-milter's negotiate() asks for each method's _symlist
        getattr(ScriptMilter, STAGE_METHODS[stage])._symlist = names
    Milter.factory = ScriptMilter
    Milter.set_flags(FLAGS)
    log('ready')
    Milter.runmilter('psmtpd-test', SOCKET, 60)


if __name__ == '__main__':
    main()
