"""A module with a syntax error, for check_python_host's start errors."""
import smtpd


class Broken(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs)
        return None
