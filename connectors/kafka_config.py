"""Connection settings shared by ReadFromKafka and WriteToKafka, checked when built.

Security comes as a `KafkaSecurity` (connectors/kafka_security.py, what every command line
gives), whose password is read only when a worker builds its client; or, for code that sets
kafka-python options itself, as `security_protocol` and `client_options`. Any other
kafka-python client option passes through to the consumer or producer unchanged, after a
check that kafka-python knows it, so a typo fails at pipeline construction instead of on a
worker. `repr` never shows a password.
"""

import dataclasses
import os
from typing import Any, Dict, Mapping, Optional, Sequence, Union

from kafka import KafkaConsumer, KafkaProducer

from connectors.kafka_security import KafkaSecurity

LOCAL_KAFKA_PORT = 9092


def default_brokers() -> str:
    """Where every goldstream command looks for Kafka unless given ``--brokers``:
    ``$GOLDSTREAM_BROKERS`` when set, else the local broker ``./run_local.sh broker start``
    runs, ``127.0.0.1:$GOLDSTREAM_KAFKA_PORT`` (port 9092 by default)."""
    brokers = os.environ.get('GOLDSTREAM_BROKERS', '').strip()
    if brokers:
        return brokers
    port = os.environ.get('GOLDSTREAM_KAFKA_PORT', '').strip() or LOCAL_KAFKA_PORT
    return f'127.0.0.1:{port}'


_TOPIC_CHARS = frozenset('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-')
SECURITY_PROTOCOLS = ('PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL')
SASL_MECHANISMS = ('PLAIN', 'GSSAPI', 'OAUTHBEARER', 'SCRAM-SHA-256', 'SCRAM-SHA-512')
# Clients of a broker that restarts reconnect within a second or two of its return, not
# after kafka-python's default back-off of up to 30 s (an option the user gives wins).
RECONNECT_SETTINGS = {'reconnect_backoff_max_ms': 1000}
# Options the connectors set themselves; a user value would break their guarantees.
_OWNED_BY_CONNECTOR = frozenset(
    {
        'bootstrap_servers',
        'group_id',
        'enable_auto_commit',
        'key_deserializer',
        'value_deserializer',
        'key_serializer',
        'value_serializer',
        'acks',
    }
)
# Options a KafkaSecurity gives; with one, client_options may not give them too.
_GIVEN_BY_SECURITY = frozenset(
    {
        'security_protocol',
        'sasl_mechanism',
        'sasl_plain_username',
        'sasl_plain_password',
        'ssl_cafile',
        'ssl_certfile',
        'ssl_keyfile',
    }
)
# Options whose values repr never shows.
_SECRET_OPTIONS = frozenset({'sasl_plain_password', 'ssl_password', 'sasl_oauth_token_provider'})


@dataclasses.dataclass(frozen=True, repr=False)
class KafkaConnection:
    """Where the brokers are and how to talk to them.

    Attributes:
      bootstrap_servers: `host:port` list (or one comma-separated string).
      security_protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
      client_options: more kafka-python client options, e.g. `request_timeout_ms`,
        `max_poll_records` (or, without `security`, `sasl_mechanism`, `ssl_cafile`, ...).
      security: the client's security settings; its password is read when a client is made.
    """

    bootstrap_servers: tuple
    security_protocol: str = 'PLAINTEXT'
    client_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    security: Optional[KafkaSecurity] = None

    @classmethod
    def of(
        cls,
        bootstrap_servers: Union[str, Sequence[str]],
        security_protocol: str = 'PLAINTEXT',
        client_options: Optional[Mapping[str, Any]] = None,
        security: Optional[KafkaSecurity] = None,
    ) -> 'KafkaConnection':
        """Builds and checks a connection; raises ValueError saying what to fix."""
        servers = parse_servers(bootstrap_servers)
        if security_protocol not in SECURITY_PROTOCOLS:
            raise ValueError(
                f'security_protocol {security_protocol!r} is not one of '
                f'{", ".join(SECURITY_PROTOCOLS)}'
            )
        options = dict(client_options or {})
        if security is not None:
            if not isinstance(security, KafkaSecurity):
                raise ValueError(f'security must be a KafkaSecurity, got {type(security)}')
            if security_protocol != 'PLAINTEXT':
                raise ValueError(
                    'give the security protocol in security=KafkaSecurity(...) '
                    'or as security_protocol, not both'
                )
            given_twice = sorted(set(options) & _GIVEN_BY_SECURITY)
            if given_twice:
                raise ValueError(
                    f'option(s) {given_twice} come from security=KafkaSecurity'
                    f'(...); do not give them in client_options too'
                )
            security_protocol = security.security_protocol
        _check_options(options, security_protocol, security is not None)
        return cls(servers, security_protocol, options, security)

    def consumer_config(
        self, defaults: Optional[Mapping[str, Any]] = None, **connector_settings
    ) -> Dict[str, Any]:
        """kafka-python KafkaConsumer keyword arguments: the connector's `defaults`, which
        `client_options` may override, and its `connector_settings`, which they may not."""
        return self._client_config(KafkaConsumer.DEFAULT_CONFIG, defaults, connector_settings)

    def producer_config(self, **connector_settings) -> Dict[str, Any]:
        """kafka-python KafkaProducer keyword arguments."""
        return self._client_config(KafkaProducer.DEFAULT_CONFIG, None, connector_settings)

    def _client_config(
        self, known: Mapping, defaults: Optional[Mapping[str, Any]], connector_settings
    ) -> Dict[str, Any]:
        config = {
            'bootstrap_servers': list(self.bootstrap_servers),
            'security_protocol': self.security_protocol,
            **RECONNECT_SETTINGS,
            **(defaults or {}),
        }
        if self.security is not None:
            config.update(self.security.client_config())  # reads the password now
        config.update((k, v) for k, v in self.client_options.items() if k in known)
        config.update(connector_settings)
        return config

    def describe(self) -> str:
        return ','.join(self.bootstrap_servers)

    def __repr__(self) -> str:
        options = {
            key: '***' if key in _SECRET_OPTIONS else value
            for key, value in self.client_options.items()
        }
        return (
            f'KafkaConnection(bootstrap_servers={self.bootstrap_servers!r}, '
            f'security_protocol={self.security_protocol!r}, client_options={options!r}, '
            f'security={self.security!r})'
        )

    __str__ = __repr__


def parse_servers(bootstrap_servers) -> tuple:
    """The servers as a tuple of `host:port`; raises ValueError for an empty or bad one."""
    if isinstance(bootstrap_servers, str):
        bootstrap_servers = bootstrap_servers.split(',')
    servers = tuple(s.strip() for s in (bootstrap_servers or ()) if s and s.strip())
    if not servers:
        raise ValueError(
            'bootstrap_servers is empty: give at least one broker as host:port, '
            'e.g. "127.0.0.1:9092"'
        )
    for server in servers:
        host, sep, port = server.rpartition(':')
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(
                f'bootstrap server {server!r} is not host:port (e.g. "127.0.0.1:9092")'
            )
    return servers


def _check_options(
    options: Dict[str, Any], security_protocol: str, checked_by_security: bool
) -> None:
    known = set(KafkaConsumer.DEFAULT_CONFIG) | set(KafkaProducer.DEFAULT_CONFIG)
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(
            f'unknown Kafka client option(s) {unknown}; kafka-python accepts '
            f'e.g. sasl_mechanism, sasl_plain_username, ssl_cafile, '
            f'request_timeout_ms (see KafkaConsumer/KafkaProducer docs)'
        )
    owned = sorted(set(options) & _OWNED_BY_CONNECTOR)
    if owned:
        raise ValueError(
            f'option(s) {owned} are set by the connector itself; use its own arguments instead'
        )
    mechanism = options.get('sasl_mechanism')
    if checked_by_security:
        pass  # KafkaSecurity checked the protocol, mechanism, user and password
    elif security_protocol.startswith('SASL_'):
        if mechanism not in SASL_MECHANISMS:
            raise ValueError(
                f'security_protocol {security_protocol} needs sasl_mechanism, one '
                f'of {", ".join(SASL_MECHANISMS)}; got {mechanism!r}'
            )
        if mechanism in ('PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512') and not (
            options.get('sasl_plain_username') and options.get('sasl_plain_password')
        ):
            raise ValueError(
                f'sasl_mechanism {mechanism} needs sasl_plain_username and sasl_plain_password'
            )
    elif mechanism is not None:
        raise ValueError(
            f'sasl_mechanism is set but security_protocol is {security_protocol}; '
            f'use SASL_PLAINTEXT or SASL_SSL'
        )
    if not security_protocol.endswith('SSL'):
        ssl_options = sorted(k for k in options if k.startswith('ssl_'))
        if ssl_options:
            raise ValueError(
                f'{ssl_options} need security_protocol SSL or SASL_SSL, not {security_protocol}'
            )


def checked_topics(topics) -> tuple:
    """Returns the topic names as a tuple; raises ValueError for an empty or invalid one."""
    if isinstance(topics, str):
        topics = [topics]
    topics = tuple(topics or ())
    if not topics:
        raise ValueError('topics is empty: name at least one topic to read')
    for topic in topics:
        if (
            not topic
            or not isinstance(topic, str)
            or set(topic) - _TOPIC_CHARS
            or len(topic) > 249
            or topic in ('.', '..')
        ):
            raise ValueError(
                f'{topic!r} is not a valid Kafka topic name (letters, digits, '
                f"'.', '_', '-'; at most 249 characters)"
            )
    return topics
