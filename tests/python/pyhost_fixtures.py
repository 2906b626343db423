"""SMTPServer subclasses written the way people wrote them for
`python -m smtpd -c pyhost_fixtures.Class`, run by check_python_host
under Python 3.11's own smtpd and under psmtpd's Python host.

Each records the arguments of every process_message call, one repr()
per line, in the file $PYHOST_RECORD (the peer's port, which differs
between runs, as its type only), so that the test can compare the two.
"""

import os
import smtpd
import smtplib


def record(peer, mailfrom, rcpttos, data, kwargs):
    line = repr((peer[0], type(peer[1]).__name__, len(peer), mailfrom,
                 rcpttos, data, kwargs))
    with open(os.environ['PYHOST_RECORD'], 'a') as f:
        f.write(line + '\n')


class Store(smtpd.SMTPServer):
    """Store each message in a file of its own."""
    count = 0

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        record(peer, mailfrom, rcpttos, data, kwargs)
        self.count += 1
        name = os.path.join(os.environ['PYHOST_DIR'],
                            'msg-%d-%d.eml' % (os.getpid(), self.count))
        with open(name, 'wb') as f:
            f.write(data)


class Refuse(smtpd.SMTPServer):
    """Refuse messages for some recipients."""

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        record(peer, mailfrom, rcpttos, data, kwargs)
        for r in rcpttos:
            if r.startswith('nobody@'):
                return '550 No such user here'
        if mailfrom.endswith('@spam.example'):
            return '554 Transaction failed'
        return None


class Forward(smtpd.SMTPServer):
    """Forward with smtplib to the upstream in $PYHOST_UPSTREAM."""

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        record(peer, mailfrom, rcpttos, data, kwargs)
        host, port = os.environ['PYHOST_UPSTREAM'].rsplit(':', 1)
        try:
            with smtplib.SMTP(host, int(port)) as s:
                s.sendmail(mailfrom, rcpttos, data)
        except smtplib.SMTPException as e:
            return '451 Upstream said: %s' % e
        return None


class Decode(smtpd.SMTPServer):
    """decode_data=True: data is a str, no kwargs."""

    def __init__(self, localaddr, remoteaddr, *args, **kwargs):
        kwargs['decode_data'] = True
        super().__init__(localaddr, remoteaddr, *args, **kwargs)

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        record(peer, mailfrom, rcpttos, data, kwargs)
        if 'reject' in data:
            return '550 Rejected by content'


class Utf8(smtpd.SMTPServer):
    """enable_SMTPUTF8=True: SMTPUTF8 in mail_options."""

    def __init__(self, localaddr, remoteaddr, *args, **kwargs):
        kwargs['enable_SMTPUTF8'] = True
        super().__init__(localaddr, remoteaddr, *args, **kwargs)

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        record(peer, mailfrom, rcpttos, data, kwargs)


class StatsChannel(smtpd.SMTPChannel):
    """An extra verb and an overridden VRFY."""
    known = {'root': 'Charlie Root <root@example.org>'}

    def smtp_XSTATS(self, arg):
        if arg:
            self.push('501 Syntax: XSTATS')
            return
        self.push('250-greeting %s' % (self.seen_greeting or '-'))
        self.push('250-mailfrom %s' % self.mailfrom)
        self.push('250 rcpttos %d' % len(self.rcpttos))

    def smtp_VRFY(self, arg):
        if arg in self.known:
            self.push('250 %s' % self.known[arg])
        elif arg == 'secret':
            self.push('550 Access denied')
        else:
            super().smtp_VRFY(arg)

    def smtp_XRESET(self, arg):
        # state written from a verb: the transaction goes away
        self.mailfrom = None
        self.rcpttos = []
        self.push('250 Reset done')

    def smtp_XADD(self, arg):
        # a recipient added by hand, as a copied smtp_RCPT did
        if not self.mailfrom:
            self.push('503 Error: need MAIL command')
            return
        self.rcpttos.append(arg)
        self.push('250 OK')

    def smtp_XDATA(self, arg):
        # smtp_DATA copied and renamed: the message follows the 354
        if not self.rcpttos:
            self.push('503 Error: need RCPT command')
            return
        self.smtp_state = self.DATA
        self.set_terminator(b'\r\n.\r\n')
        self.push('354 Go ahead')


class Verbs(Store):
    channel_class = StatsChannel


class Debug(smtpd.DebuggingServer):
    """DebuggingServer as a base."""

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        record(peer, mailfrom, rcpttos, data, kwargs)
        return super().process_message(peer, mailfrom, rcpttos, data,
                                       **kwargs)


class CountingChannel(smtpd.SMTPChannel):
    """A channel_class without a verb of its own: made per connection."""

    def __init__(self, server, conn, addr, *args, **kwargs):
        super().__init__(server, conn, addr, *args, **kwargs)
        server.connections += 1
        self.number = server.connections


class Counting(smtpd.SMTPServer):
    channel_class = CountingChannel
    connections = 0

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        record(peer, mailfrom, rcpttos, data, kwargs)
        if self.connections == 0:
            return '451 No channel was made'


class Raise(smtpd.SMTPServer):
    """A bug in process_message."""

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        record(peer, mailfrom, rcpttos, data, kwargs)
        raise KeyError('missing')


class Ticker(smtpd.SMTPServer):
    """A background thread, started in __init__, that must keep running
    while the worker waits for its clients."""

    def __init__(self, *args, **kwargs):
        import threading
        import time
        super().__init__(*args, **kwargs)

        def tick():
            for n in range(1000):
                with open(os.environ['PYHOST_TICKS'], 'w') as f:
                    f.write('%d\n' % n)
                time.sleep(0.02)
        threading.Thread(target=tick, daemon=True).start()

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        return None


class NotAServer:
    """Not a subclass of SMTPServer."""

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        pass
