"""_psmtpd_host: the Python side of psmtpd's Python plugin host.

The C host (plugins/python/) calls these functions; they find the user's
class, describe what is wrong with it in one line with its file and line,
make the server and the channels, and call process_message and the
smtp_<VERB> methods as Python's smtpd called them.
"""

import importlib
import inspect
import sys
import traceback

import smtpd

# Verbs of Python's SMTPChannel: overriding one replaces psmtpd's.
BUILTIN_VERBS = ('HELO', 'EHLO', 'NOOP', 'QUIT', 'MAIL', 'RCPT', 'RSET',
                 'DATA', 'HELP', 'VRFY', 'EXPN')


class StartError(Exception):
    """What stops the start, as one line: FILE:LINE: what."""


def _frame_where(tb):
    frames = traceback.extract_tb(tb)
    if not frames:
        return ''
    return '%s:%s: ' % (frames[-1].filename, frames[-1].lineno)


def describe(exc):
    """One line for an exception: where it was raised and what it is."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return '%s:%s: %s: %s' % (exc.filename, exc.lineno,
                                  type(exc).__name__, exc.msg)
    return '%s%s: %s' % (_frame_where(exc.__traceback__),
                         type(exc).__name__, exc)


def _where_defined(obj):
    try:
        return '%s:%s: ' % (inspect.getsourcefile(obj),
                            inspect.getsourcelines(obj)[1])
    except (OSError, TypeError):
        return ''


def _import(modname):
    try:
        return importlib.import_module(modname)
    except ModuleNotFoundError as e:
        if e.name is not None and (modname == e.name or
                                   modname.startswith(e.name + '.')):
            raise StartError("no Python module named '%s' (path: %s)" %
                             (modname, ':'.join(sys.path))) from None
        raise StartError('importing %s: %s' % (modname, describe(e))) from e
    except BaseException as e:
        raise StartError('importing %s: %s' % (modname, describe(e))) from e


def load(classname):
    """The class named module.Class, checked: a subclass of SMTPServer
    whose channel_class is a subclass of SMTPChannel."""
    modname, _, clsname = classname.rpartition('.')
    mod = _import(modname)
    cls = getattr(mod, clsname, None)
    if cls is None:
        raise StartError("%s: module %s has no class '%s'" % (
            getattr(mod, '__file__', modname), modname, clsname))
    if not (isinstance(cls, type) and issubclass(cls, smtpd.SMTPServer)):
        raise StartError('%s%s is not a subclass of smtpd.SMTPServer' %
                         (_where_defined(cls), classname))
    chan = cls.channel_class
    if not (isinstance(chan, type) and issubclass(chan, smtpd.SMTPChannel)):
        raise StartError('%s%s.channel_class is not a subclass of '
                         'smtpd.SMTPChannel' % (_where_defined(cls),
                                                classname))
    return cls


def verbs(cls):
    """The verbs that cls.channel_class adds or overrides, and HELP when
    it adds one (Python's HELP lists only its own verbs); CHANNEL first
    when channel_class is a subclass, made for each connection."""
    chan = cls.channel_class
    found = []
    for name in dir(chan):
        verb = name[5:]
        if not name.startswith('smtp_') or not verb.isalnum() or \
                verb != verb.upper() or not callable(getattr(chan, name)):
            continue
        if getattr(chan, name) is not getattr(smtpd.SMTPChannel, name, None):
            found.append(verb)
    if any(v not in BUILTIN_VERBS for v in found) and 'HELP' not in found:
        found.append('HELP')
    found.sort()
    if chan is not smtpd.SMTPChannel:
        found.insert(0, 'channel=1')
    return found


def make_server(cls, localaddr, remoteaddr, data_size_limit,
                enable_smtputf8):
    """As python -m smtpd makes it."""
    return cls(localaddr, remoteaddr, data_size_limit,
               enable_SMTPUTF8=enable_smtputf8)


def settings(server):
    """What the instance chose, for psmtpd's channels: data_size_limit
    (None or 0: no limit), enable_SMTPUTF8, _decode_data."""
    size = server.data_size_limit or 0
    if not isinstance(size, int) or size < 0:
        raise StartError('%s: data_size_limit must be a number of bytes, '
                         'not %r' % (type(server).__name__, size))
    return (size, bool(server.enable_SMTPUTF8), bool(server._decode_data))


def make_channel(server, peer):
    """As SMTPServer.handle_accepted makes one, for a new connection."""
    return server.channel_class(server, smtpd._Conn(peer), peer,
                                server.data_size_limit, None,
                                server.enable_SMTPUTF8, server._decode_data)


def message(server, peer, mailfrom, rcpttos, data, mail_options,
            rcpt_options):
    """process_message as SMTPChannel.found_terminator calls it: None for
    250 OK, or the reply text."""
    kwargs = {}
    if server._decode_data:
        data = data.decode('utf-8')
    else:
        kwargs = {'mail_options': mail_options, 'rcpt_options': rcpt_options}
    try:
        status = server.process_message(peer, mailfrom, rcpttos, data,
                                        **kwargs)
    finally:
        sys.stdout.flush()
    if not status:
        return None
    if not isinstance(status, str):
        raise TypeError('process_message returned %r: a reply must be a '
                        'string (or None for 250 OK)' % (status,))
    return status


def verb(channel, name, arg):
    """channel.smtp_<name>(arg), as found_terminator dispatches."""
    try:
        getattr(channel, 'smtp_' + name)(arg)
    finally:
        sys.stdout.flush()


def format_exception(exc):
    """The traceback, for the log, one string per line."""
    text = ''.join(traceback.format_exception(type(exc), exc,
                                              exc.__traceback__))
    return text.rstrip('\n').split('\n')
