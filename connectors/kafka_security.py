"""How a Kafka client of goldstream authenticates and encrypts: one value for every client.

`KafkaSecurity` holds the security protocol, the SASL mechanism and user, the password and the
TLS files; `add_arguments` puts the matching options on an `argparse` parser (each defaulting
to a `GOLDSTREAM_KAFKA_*` environment variable) and `from_arguments` builds the value from what
was parsed. `client_config()` gives the kafka-python keyword arguments, for a consumer, a
producer or an admin client alike.

The password is read from an environment variable named on the command line, or from a file,
never from the command line itself (where `ps` would show it). It is never printed: not by
`repr`, not in an error message.
"""
import argparse
import dataclasses
import os
import pathlib
from typing import Any, Dict, Mapping, Optional

SECURITY_PROTOCOLS = ('PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL')
SASL_MECHANISMS = ('PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512')
ENV_PREFIX = 'GOLDSTREAM_KAFKA_'
"""Prefix of the environment variables that give the options' defaults."""


@dataclasses.dataclass(frozen=True, repr=False)
class KafkaSecurity:
    """The security settings of a Kafka client, checked when built.

    Attributes:
      security_protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
      sasl_mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; required with SASL_*, refused
        otherwise.
      username: The SASL user; required with SASL_*.
      password: The SASL password; required with SASL_*. Never shown by `repr`.
      ssl_cafile: PEM file of the CA that signed the brokers' certificates (SSL, SASL_SSL).
      ssl_certfile: PEM file of this client's certificate, for brokers that ask for one.
      ssl_keyfile: PEM file of this client's private key (with `ssl_certfile`).

    Raises:
      ValueError: on an unknown protocol or mechanism, a SASL protocol without its mechanism,
        user or password, SASL settings without a SASL protocol, TLS files without TLS, a key
        without a certificate, or a TLS file that does not exist.
    """
    security_protocol: str = 'PLAINTEXT'
    sasl_mechanism: Optional[str] = None
    username: Optional[str] = None
    password: Optional[str] = None
    ssl_cafile: Optional[str] = None
    ssl_certfile: Optional[str] = None
    ssl_keyfile: Optional[str] = None

    def __post_init__(self) -> None:
        protocol = self.security_protocol
        if protocol not in SECURITY_PROTOCOLS:
            raise ValueError(f'security protocol {protocol!r} is not one of '
                             f'{", ".join(SECURITY_PROTOCOLS)}')
        if protocol.startswith('SASL_'):
            if self.sasl_mechanism not in SASL_MECHANISMS:
                raise ValueError(f'security protocol {protocol} needs a SASL mechanism, one of '
                                 f'{", ".join(SASL_MECHANISMS)}; got {self.sasl_mechanism!r}')
            if not self.username:
                raise ValueError(f'security protocol {protocol} needs a SASL user name')
            if not self.password:
                raise ValueError(f'security protocol {protocol} needs a SASL password: name '
                                 f'the environment variable that holds it, or a file')
        elif self.sasl_mechanism or self.username or self.password:
            raise ValueError(f'SASL settings (mechanism, user, password) are given but the '
                             f'security protocol is {protocol}; use SASL_PLAINTEXT or SASL_SSL')
        tls_files = {'CA file': self.ssl_cafile, 'certificate file': self.ssl_certfile,
                     'key file': self.ssl_keyfile}
        if not protocol.endswith('SSL') and any(tls_files.values()):
            raise ValueError(f'TLS files are given but the security protocol is {protocol}; '
                             f'use SSL or SASL_SSL')
        if self.ssl_keyfile and not self.ssl_certfile:
            raise ValueError('a TLS key file is given without its certificate file')
        for what, path in tls_files.items():
            if path and not pathlib.Path(path).is_file():
                raise ValueError(f'the TLS {what} {path} does not exist or is not a file')

    def client_config(self) -> Dict[str, Any]:
        """Keyword arguments for kafka-python's KafkaConsumer, KafkaProducer or
        KafkaAdminClient: only the settings that apply, nothing for PLAINTEXT but the protocol."""
        config: Dict[str, Any] = {'security_protocol': self.security_protocol}
        if self.security_protocol.startswith('SASL_'):
            config.update(sasl_mechanism=self.sasl_mechanism,
                          sasl_plain_username=self.username,
                          sasl_plain_password=self.password)
        for option in ('ssl_cafile', 'ssl_certfile', 'ssl_keyfile'):
            if getattr(self, option):
                config[option] = getattr(self, option)
        return config

    def __repr__(self) -> str:
        shown = ', '.join(f'{field.name}=' + ('***' if field.name == 'password' else repr(value))
                          for field in dataclasses.fields(self)
                          if (value := getattr(self, field.name)) is not None)
        return f'KafkaSecurity({shown})'

    __str__ = __repr__


def add_arguments(parser: argparse.ArgumentParser,
                  environ: Optional[Mapping[str, str]] = None) -> None:
    """Adds the security options to `parser`, in a group of their own.

    Each option's default is the environment variable `GOLDSTREAM_KAFKA_<OPTION>` (e.g.
    `GOLDSTREAM_KAFKA_SECURITY_PROTOCOL`, `GOLDSTREAM_KAFKA_SASL_PASSWORD_ENV`), so one
    environment configures every client; the command line wins.

    Args:
      parser: The parser to extend.
      environ: Where the defaults come from; `os.environ` by default.
    """
    environ = os.environ if environ is None else environ

    def default(name: str, fallback: Optional[str] = None) -> Optional[str]:
        return environ.get(ENV_PREFIX + name.upper(), fallback)

    group = parser.add_argument_group(
        'Kafka security', 'How to authenticate and encrypt; defaults come from '
        f'{ENV_PREFIX}<OPTION> environment variables (e.g. {ENV_PREFIX}SECURITY_PROTOCOL).')
    group.add_argument('--security-protocol', choices=SECURITY_PROTOCOLS,
                       default=default('security_protocol', 'PLAINTEXT'),
                       help='how to talk to the brokers (default %(default)s)')
    group.add_argument('--sasl-mechanism', choices=SASL_MECHANISMS,
                       default=default('sasl_mechanism'),
                       help='SASL mechanism, with SASL_PLAINTEXT or SASL_SSL')
    group.add_argument('--sasl-username', default=default('sasl_username'),
                       help='SASL user name')
    group.add_argument('--sasl-password-env', metavar='VARIABLE',
                       default=default('sasl_password_env'),
                       help='name of the environment variable that holds the SASL password')
    group.add_argument('--sasl-password-file', metavar='PATH',
                       default=default('sasl_password_file'),
                       help='file whose first line is the SASL password')
    group.add_argument('--ssl-cafile', metavar='PATH', default=default('ssl_cafile'),
                       help="PEM file of the CA that signed the brokers' certificates")
    group.add_argument('--ssl-certfile', metavar='PATH', default=default('ssl_certfile'),
                       help="PEM file of this client's certificate (mutual TLS)")
    group.add_argument('--ssl-keyfile', metavar='PATH', default=default('ssl_keyfile'),
                       help="PEM file of this client's private key (mutual TLS)")


def from_arguments(args: argparse.Namespace,
                   environ: Optional[Mapping[str, str]] = None) -> KafkaSecurity:
    """Builds the settings from options that `add_arguments` added and argparse parsed.

    Args:
      args: The parsed options.
      environ: Where `--sasl-password-env` is looked up; `os.environ` by default.

    Raises:
      ValueError: both or neither password source with a SASL protocol, a variable that is
        not set, a file that cannot be read, or any check of `KafkaSecurity`.
    """
    environ = os.environ if environ is None else environ
    password = _read_password(args.sasl_password_env, args.sasl_password_file, environ)
    return KafkaSecurity(security_protocol=args.security_protocol,
                         sasl_mechanism=args.sasl_mechanism, username=args.sasl_username,
                         password=password, ssl_cafile=args.ssl_cafile,
                         ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile)


def _read_password(variable: Optional[str], path: Optional[str],
                   environ: Mapping[str, str]) -> Optional[str]:
    if variable and path:
        raise ValueError('give the SASL password through either --sasl-password-env or '
                         '--sasl-password-file, not both')
    if variable:
        if not environ.get(variable):
            raise ValueError(f'the environment variable {variable} (named by '
                             f'--sasl-password-env) is not set or empty; export the SASL '
                             f'password in it')
        return environ[variable]
    if path:
        try:
            lines = pathlib.Path(path).read_text(encoding='utf-8').splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f'cannot read the SASL password file {path} '
                             f'({type(error).__name__}); point --sasl-password-file at a '
                             f'readable UTF-8 file') from None
        if not lines or not lines[0]:
            raise ValueError(f'the SASL password file {path} is empty; its first line is '
                             f'the password')
        return lines[0]
    return None
