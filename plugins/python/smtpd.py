"""psmtpd's smtpd module: what Python's smtpd (removed in 3.12) gave the
code that subclassed it, for that code to run unchanged inside psmtpd.

psmtpd's Python host puts this module in sys.modules['smtpd'] before it
imports the user's module, whatever Python is installed.  There is no
asyncore here: psmtpd owns the sockets, the event loop and the SMTP
protocol; these classes are the face that user code sees of them.

- SMTPServer: the constructor takes Python's arguments and binds nothing.
  One instance per worker process, made after the privilege drop.
- SMTPChannel: one per connection when SMTPServer.channel_class is a
  subclass that adds or overrides smtp_<VERB> methods.  Its state
  (mailfrom, rcpttos, seen_greeting, smtp_state, ...) is the session's:
  reads and writes go to psmtpd.  A call of a base smtp_<VERB> method
  (super().smtp_MAIL(arg)) runs psmtpd's built-in verb once the override
  returns, unless the override pushed a reply itself.
- DebuggingServer, PureProxy: usable as bases, as in Python.
"""

import collections
import collections.abc
import sys

import _psmtpd

__all__ = [
    "SMTPChannel", "SMTPServer", "DebuggingServer", "PureProxy",
]

__version__ = 'Python SMTP proxy version 0.3'
program = 'psmtpd'


class Devnull:
    def write(self, msg): pass
    def flush(self): pass


DEBUGSTREAM = Devnull()
NEWLINE = '\n'
COMMASPACE = ', '
DATA_SIZE_DEFAULT = 33554432

_HELP_VERBS = 'EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY'
_HELP_TOPICS = {
    'EHLO': 'Syntax: EHLO hostname',
    'HELO': 'Syntax: HELO hostname',
    'MAIL': 'Syntax: MAIL FROM: <address>',
    'RCPT': 'Syntax: RCPT TO: <address>',
    'DATA': 'Syntax: DATA',
    'RSET': 'Syntax: RSET',
    'NOOP': 'Syntax: NOOP',
    'QUIT': 'Syntax: QUIT',
    'VRFY': 'Syntax: VRFY <address>',
}


class _Recipients(collections.abc.MutableSequence):
    """self.rcpttos of a channel: a list whose changes reach the session."""

    def _get(self):
        return _psmtpd.rcpttos()

    def _put(self, value):
        _psmtpd.set_rcpttos(list(value))

    def __len__(self):
        return len(self._get())

    def __getitem__(self, i):
        return self._get()[i]

    def __setitem__(self, i, value):
        items = self._get()
        items[i] = value
        self._put(items)

    def __delitem__(self, i):
        items = self._get()
        del items[i]
        self._put(items)

    def insert(self, i, value):
        items = self._get()
        items.insert(i, value)
        self._put(items)

    def __eq__(self, other):
        return self._get() == list(other)

    def __repr__(self):
        return repr(self._get())


def _session_property(name, doc):
    def get(self):
        return _psmtpd.get(name)

    def put(self, value):
        _psmtpd.set(name, value)
    return property(get, put, doc=doc)


class _Conn:
    """What psmtpd can give of SMTPChannel.conn: the peer's address.  The
    socket itself stays psmtpd's (its buffers, TLS and time limits)."""

    def __init__(self, peer):
        self._peer = peer

    def getpeername(self):
        return self._peer


class SMTPChannel:
    COMMAND = 0
    DATA = 1

    command_size_limit = 512
    command_size_limits = collections.defaultdict(
        lambda x=command_size_limit: x)

    mailfrom = _session_property('mailfrom', 'MAIL FROM address or None')
    seen_greeting = _session_property('seen_greeting', 'HELO/EHLO argument')
    extended_smtp = _session_property('extended_smtp', 'True after EHLO')
    smtp_state = _session_property('smtp_state', 'COMMAND or DATA')
    received_data = _session_property('received_data', 'the last message')
    mail_options = _session_property('mail_options', 'MAIL parameters')
    rcpt_options = _session_property('rcpt_options', 'RCPT parameters')

    @property
    def max_command_size_limit(self):
        try:
            return max(self.command_size_limits.values())
        except ValueError:
            return self.command_size_limit

    def __init__(self, server, conn, addr, data_size_limit=DATA_SIZE_DEFAULT,
                 map=None, enable_SMTPUTF8=False, decode_data=False):
        self.smtp_server = server
        self.conn = conn
        self.addr = addr
        self.data_size_limit = data_size_limit
        self.enable_SMTPUTF8 = enable_SMTPUTF8
        self._decode_data = decode_data
        if enable_SMTPUTF8 and decode_data:
            raise ValueError("decode_data and enable_SMTPUTF8 cannot"
                             " be set to True at the same time")
        self._emptystring = '' if decode_data else b''
        self.received_lines = []
        self.num_bytes = 0
        self.require_SMTPUTF8 = False
        self.fqdn = _psmtpd.get('fqdn')
        self.peer = addr

    @property
    def rcpttos(self):
        return _Recipients()

    @rcpttos.setter
    def rcpttos(self, value):
        _psmtpd.set_rcpttos(list(value))

    def push(self, msg):
        _psmtpd.push(msg)

    def close_when_done(self):
        _psmtpd.close()

    close = close_when_done

    # asynchat's framing is psmtpd's: a copied smtp_DATA that sets the
    # terminator after smtp_state = DATA works as it did.
    def set_terminator(self, term):
        pass

    def get_terminator(self):
        return b'\r\n.\r\n' if self.smtp_state == self.DATA else b'\r\n'

    def _set_post_data_state(self):
        self.smtp_state = self.COMMAND
        self.mailfrom = None
        self.rcpttos = []
        self.num_bytes = 0

    def _set_rset_state(self):
        self._set_post_data_state()
        self.received_lines = []

    def _strip_command_keyword(self, keyword, arg):
        if arg[:len(keyword)].upper() == keyword:
            return arg[len(keyword):].strip()
        return ''

    def _getaddr(self, arg):
        from email._header_value_parser import get_addr_spec, get_angle_addr
        if not arg:
            return '', ''
        if arg.lstrip().startswith('<'):
            address, rest = get_angle_addr(arg)
        else:
            address, rest = get_addr_spec(arg)
        if not address:
            return address, rest
        return address.addr_spec, rest

    def _getparams(self, params):
        result = {}
        for param in params:
            key, eq, value = param.partition('=')
            if not key.isalnum() or (eq and not value):
                return None
            result[key] = value if eq else True
        return result

    # Python's HELP, so that a channel_class answers HELP as it did there.
    def smtp_HELP(self, arg):
        if not arg:
            self.push('250 Supported commands: ' + _HELP_VERBS)
            return
        verb = arg.upper()
        text = _HELP_TOPICS.get(verb)
        if text is None:
            self.push('501 Supported commands: ' + _HELP_VERBS)
            return
        if verb in ('MAIL', 'RCPT') and self.extended_smtp:
            text += ' [SP <mail-parameters>]'
        self.push('250 ' + text)

    # The other verbs are psmtpd's own: calling one from an override asks
    # psmtpd to run it when the override returns.
    def smtp_HELO(self, arg): _psmtpd.builtin()
    def smtp_EHLO(self, arg): _psmtpd.builtin()
    def smtp_NOOP(self, arg): _psmtpd.builtin()
    def smtp_QUIT(self, arg): _psmtpd.builtin()
    def smtp_MAIL(self, arg): _psmtpd.builtin()
    def smtp_RCPT(self, arg): _psmtpd.builtin()
    def smtp_RSET(self, arg): _psmtpd.builtin()
    def smtp_DATA(self, arg): _psmtpd.builtin()
    def smtp_VRFY(self, arg): _psmtpd.builtin()
    def smtp_EXPN(self, arg): _psmtpd.builtin()


class SMTPServer:
    # SMTPChannel class to use for managing client connections
    channel_class = SMTPChannel

    def __init__(self, localaddr, remoteaddr,
                 data_size_limit=DATA_SIZE_DEFAULT, map=None,
                 enable_SMTPUTF8=False, decode_data=False):
        self._localaddr = localaddr
        self._remoteaddr = remoteaddr
        self.data_size_limit = data_size_limit
        self.enable_SMTPUTF8 = enable_SMTPUTF8
        self._decode_data = decode_data
        self._map = map
        if enable_SMTPUTF8 and decode_data:
            raise ValueError("decode_data and enable_SMTPUTF8 cannot"
                             " be set to True at the same time")

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        raise NotImplementedError


class DebuggingServer(SMTPServer):

    def _print_message_content(self, peer, data):
        inheaders = 1
        for line in data.splitlines():
            if inheaders and not line:
                peerheader = 'X-Peer: ' + peer[0]
                if not isinstance(data, str):
                    peerheader = repr(peerheader.encode('utf-8'))
                print(peerheader)
                inheaders = 0
            if not isinstance(data, str):
                line = repr(line)
            print(line)

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        print('---------- MESSAGE FOLLOWS ----------')
        if kwargs:
            if kwargs.get('mail_options'):
                print('mail options: %s' % kwargs['mail_options'])
            if kwargs.get('rcpt_options'):
                print('rcpt options: %s\n' % kwargs['rcpt_options'])
        self._print_message_content(peer, data)
        print('------------ END MESSAGE ------------')
        sys.stdout.flush()


class PureProxy(SMTPServer):
    def __init__(self, *args, **kwargs):
        if 'enable_SMTPUTF8' in kwargs and kwargs['enable_SMTPUTF8']:
            raise ValueError("PureProxy does not support SMTPUTF8.")
        super().__init__(*args, **kwargs)

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        if isinstance(data, bytes):
            data = data.decode('utf-8', 'surrogateescape')
        lines = data.split('\n')
        i = 0
        for line in lines:
            if not line:
                break
            i += 1
        lines.insert(i, 'X-Peer: %s' % peer[0])
        data = NEWLINE.join(lines)
        refused = self._deliver(mailfrom, rcpttos, data)
        print('we got some refusals:', refused, file=DEBUGSTREAM)

    def _deliver(self, mailfrom, rcpttos, data):
        import smtplib
        refused = {}
        try:
            s = smtplib.SMTP()
            s.connect(self._remoteaddr[0], self._remoteaddr[1])
            try:
                refused = s.sendmail(mailfrom, rcpttos, data)
            finally:
                s.quit()
        except smtplib.SMTPRecipientsRefused as e:
            refused = e.recipients
        except (OSError, smtplib.SMTPException) as e:
            errcode = getattr(e, 'smtp_code', -1)
            errmsg = getattr(e, 'smtp_error', 'ignore')
            for r in rcpttos:
                refused[r] = (errcode, errmsg)
        return refused
