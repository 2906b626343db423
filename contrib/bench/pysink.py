"""The SMTPServer subclass of contrib/bench/run --python: a sink with a
Python process_message, run by Python 3.11's smtpd and by psmtpd."""

import smtpd


class Sink(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        if not rcpttos or not data:
            return '554 Nothing to deliver'
        return None
