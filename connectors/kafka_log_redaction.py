"""Keeps SASL passwords out of kafka-python's own log records.

kafka-python logs its whole configuration, password included, when a KafkaAdminClient starts
(DEBUG), and at DEBUG the bytes it sends (a SASL PLAIN login carries the password in them).
`redact_in_kafka_logs(secret)` puts a filter on every `kafka.*` logger that replaces the
secret with `***` in each record that logger emits, so turning DEBUG on never prints it.
Records below a logger's level are never built, so the filter costs nothing at WARNING.
"""

import logging
import threading
from typing import Optional, Set

REDACTED = '***'
_secrets: Set[str] = set()
_lock = threading.Lock()


class _RedactSecrets(logging.Filter):
    """Rewrites a record's message without any registered secret; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        with _lock:
            secrets = tuple(_secrets)
        try:
            message = record.getMessage()
        except Exception:  # pylint: disable=broad-except  # a malformed record: leave it
            return True
        if any(secret in message for secret in secrets):
            for secret in secrets:
                message = message.replace(secret, REDACTED)
            record.msg, record.args = message, ()
        return True


_FILTER = _RedactSecrets()


def redact_in_kafka_logs(secret: Optional[str]) -> None:
    """Registers `secret` and filters every `kafka` logger that exists now (kafka-python makes
    its loggers when its modules are imported, before any client is built)."""
    if not secret:
        return
    with _lock:
        _secrets.add(secret)
    for name in ['kafka', *list(logging.Logger.manager.loggerDict)]:
        if name == 'kafka' or name.startswith('kafka.'):
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
