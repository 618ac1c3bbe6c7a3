"""Can this client reach Kafka with its security settings? One line saying what to check if not.

The launchers (the streaming pipeline, the daily report's Kafka source, the generator, the
demo) call `check_kafka_access` before they start, so a wrong password, CA or port is one
`error:` line and exit code 2, not a runner's traceback from a worker. It tries, in order:
a TCP connection to each bootstrap server; with SSL or SASL_SSL, a TLS handshake with the
CA and client certificate given; then a metadata request through kafka-python with the full
settings (the SASL login). kafka-python's own log records of the attempt are held back and
only used to tell a refused login from another failure. No message carries the password.
"""

import contextlib
import logging
import socket
import ssl
from typing import Iterator, List, Optional, Sequence, Union

from connectors.kafka_config import parse_servers
from connectors.kafka_security import KafkaSecurity
from connectors.kafka_topics import broker_answers

_REFUSED_LOGIN = ('Authentication failed', 'SaslAuthenticationFailed', 'invalid credentials')


class KafkaAccessError(ConnectionError):
    """The brokers cannot be used with these settings; the message is one line naming what to
    check."""


class KafkaUnreachable(KafkaAccessError):
    """No bootstrap server accepts a TCP connection: nothing listens there."""


def check_kafka_access(
    bootstrap_servers: Union[str, Sequence[str]],
    security: Optional[KafkaSecurity] = None,
    timeout_s: float = 10.0,
) -> None:
    """Returns when a broker answers a metadata request with these settings.

    Args:
      bootstrap_servers: brokers as `host:port` (list or comma-separated string).
      security: how to connect; plaintext when None.
      timeout_s: how long each step may take.

    Raises:
      KafkaUnreachable: no server accepts a TCP connection.
      KafkaAccessError: the TLS handshake fails, the SASL login is refused, or no metadata
        comes back.
      ValueError: a server is not host:port, or the password's variable or file is missing.
    """
    security = security or KafkaSecurity()
    servers = parse_servers(bootstrap_servers)
    listed = ','.join(servers)
    reachable = [server for server in servers if _accepts_tcp(server, timeout_s)]
    if not reachable:
        raise KafkaUnreachable(
            f'no Kafka broker answered at {listed}; start one with '
            f'./run_local.sh broker start or pass --brokers'
        )
    if security.security_protocol.endswith('SSL'):
        _check_tls(reachable[0], security, timeout_s)
    with _kafka_logs_held() as records:
        answered = broker_answers(listed, timeout_s, security)
    if answered:
        return
    refused = any(marker in text for text in records for marker in _REFUSED_LOGIN)
    if security.uses_sasl:
        verdict = 'refused' if refused else 'did not accept'
        raise KafkaAccessError(
            f'Kafka at {listed} {verdict} the SASL login of user {security.username!r} '
            f'({security.sasl_mechanism}): check --sasl_username and the password in '
            f'{security.password_source()}, and --sasl_mechanism'
        )
    raise KafkaAccessError(
        f'Kafka at {listed} did not answer a metadata request within {timeout_s:.0f} s with '
        f'security protocol {security.security_protocol}: check that --security_protocol '
        f"matches the broker's listener on that port"
    )


def _accepts_tcp(server: str, timeout_s: float) -> bool:
    host, _, port = server.rpartition(':')
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            return True
    except OSError:
        return False


def _check_tls(server: str, security: KafkaSecurity, timeout_s: float) -> None:
    host, _, port = server.rpartition(':')
    try:
        context = ssl.create_default_context(cafile=security.ssl_cafile)
        if security.ssl_certfile:
            context.load_cert_chain(security.ssl_certfile, security.ssl_keyfile)
    except (ssl.SSLError, OSError) as error:
        raise KafkaAccessError(
            f'cannot load the TLS files ({_reason(error)}): check --ssl_cafile, '
            f'--ssl_certfile and --ssl_keyfile (PEM files)'
        ) from None
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s) as raw:
            with context.wrap_socket(raw, server_hostname=host):
                pass
    except (ssl.SSLError, ssl.CertificateError, OSError) as error:
        raise KafkaAccessError(
            f'the TLS handshake with {server} failed ({_reason(error)}): check --ssl_cafile '
            f"(the CA that signed the broker's certificate) and that this port's listener "
            f'speaks {security.security_protocol}'
        ) from None


def _reason(error: BaseException) -> str:
    reason = getattr(error, 'verify_message', None) or getattr(error, 'reason', None)
    return str(reason or error).splitlines()[0]


@contextlib.contextmanager
def _kafka_logs_held() -> Iterator[List[str]]:
    """kafka-python's WARNING and ERROR records while the block runs, kept from the console
    (a refused login is several lines of them) and returned as text."""
    logger = logging.getLogger('kafka')
    held: List[str] = []

    class _Hold(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            held.append(record.getMessage())

    handler = _Hold(logging.WARNING)
    propagate, level = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    if not logger.isEnabledFor(logging.WARNING):
        logger.setLevel(logging.WARNING)
    try:
        yield held
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
        logger.setLevel(level)
