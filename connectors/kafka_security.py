"""How a Kafka client of goldstream authenticates and encrypts: one value for every client.

`KafkaSecurity` holds the security protocol, the SASL mechanism and user, where the password
comes from, and the TLS files; `add_arguments` puts the matching options on a parser (each
defaulting to a `GOLDSTREAM_KAFKA_*` environment variable), the one definition that every
command line shares (`pipelines/kafka_security_options.py` wraps it for Beam's
PipelineOptions), and `from_arguments` builds the value from what was parsed.
`client_config()` gives the kafka-python keyword arguments, for a consumer, a producer or an
admin client alike.

The password is read from an environment variable named on the command line, or from a file,
never from the command line itself (where `ps` would show it). A `KafkaSecurity` built from
options keeps only the variable's name or the file's path and reads the password when
`client_config()` is called: in a pipeline that is the worker's `DoFn.setup`, so neither the
pipeline options nor the pickled pipeline carry it. It is never printed: not by `repr`, not in
an error message. See docs/security.md.
"""

import argparse
import dataclasses
import os
import pathlib
from typing import Any, Dict, List, Mapping, Optional

from connectors.kafka_log_redaction import redact_in_kafka_logs

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
      password: The SASL password itself, for code that has it in hand. Never shown by
        `repr`; but a value that is pickled (a Beam transform's settings) carries it, so
        pipelines use `password_env` or `password_file` instead.
      ssl_cafile: PEM file of the CA that signed the brokers' certificates (SSL, SASL_SSL).
      ssl_certfile: PEM file of this client's certificate, for brokers that ask for one.
      ssl_keyfile: PEM file of this client's private key (with `ssl_certfile`).
      password_env: Name of the environment variable that holds the SASL password, read by
        `client_config()`.
      password_file: Path of a file whose first line is the SASL password, read by
        `client_config()`.

    With SASL_* exactly one of `password`, `password_env` and `password_file` is given.

    Raises:
      ValueError: on an unknown protocol or mechanism, a SASL protocol without its mechanism,
        user or password source (or with more than one), SASL settings without a SASL
        protocol, TLS files without TLS, a key without a certificate, or a TLS file that does
        not exist.
    """

    security_protocol: str = 'PLAINTEXT'
    sasl_mechanism: Optional[str] = None
    username: Optional[str] = None
    password: Optional[str] = None
    ssl_cafile: Optional[str] = None
    ssl_certfile: Optional[str] = None
    ssl_keyfile: Optional[str] = None
    password_env: Optional[str] = None
    password_file: Optional[str] = None

    def __post_init__(self) -> None:
        protocol = self.security_protocol
        if protocol not in SECURITY_PROTOCOLS:
            raise ValueError(
                f'security protocol {protocol!r} is not one of {", ".join(SECURITY_PROTOCOLS)}'
            )
        sources = [
            source for source in (self.password, self.password_env, self.password_file) if source
        ]
        if protocol.startswith('SASL_'):
            if self.sasl_mechanism not in SASL_MECHANISMS:
                raise ValueError(
                    f'security protocol {protocol} needs a SASL mechanism, one of '
                    f'{", ".join(SASL_MECHANISMS)}; got {self.sasl_mechanism!r}'
                )
            if not self.username:
                raise ValueError(f'security protocol {protocol} needs a SASL user name')
            if not sources:
                raise ValueError(
                    f'security protocol {protocol} needs a SASL password: name '
                    f'the environment variable that holds it, or a file'
                )
            if len(sources) > 1:
                raise ValueError(
                    'give the SASL password through either --sasl_password_env '
                    'or --sasl_password_file, not both'
                )
        elif self.sasl_mechanism or self.username or sources:
            raise ValueError(
                f'SASL settings (mechanism, user, password) are given but the '
                f'security protocol is {protocol}; use SASL_PLAINTEXT or SASL_SSL'
            )
        tls_files = {
            'CA file': self.ssl_cafile,
            'certificate file': self.ssl_certfile,
            'key file': self.ssl_keyfile,
        }
        if not protocol.endswith('SSL') and any(tls_files.values()):
            raise ValueError(
                f'TLS files are given but the security protocol is {protocol}; use SSL or SASL_SSL'
            )
        if self.ssl_keyfile and not self.ssl_certfile:
            raise ValueError('a TLS key file is given without its certificate file')
        for what, path in tls_files.items():
            if path and not pathlib.Path(path).is_file():
                raise ValueError(f'the TLS {what} {path} does not exist or is not a file')

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith('SASL_')

    def read_password(self, environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
        """The SASL password, from where it is kept; None without SASL.

        Args:
          environ: Where `password_env` is looked up; `os.environ` by default.

        Raises:
          ValueError: the variable is not set, or the file cannot be read or is empty (the
            message names the variable or file, never the password).
        """
        if self.password or not self.uses_sasl:
            return self.password
        environ = os.environ if environ is None else environ
        if self.password_env:
            if not environ.get(self.password_env):
                raise ValueError(
                    f'the environment variable {self.password_env} (named by '
                    f'--sasl_password_env) is not set or empty; export the SASL '
                    f'password in it'
                )
            return environ[self.password_env]
        assert self.password_file is not None  # uses_sasl: a password, variable or file is set
        try:
            lines = pathlib.Path(self.password_file).read_text(encoding='utf-8').splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(
                f'cannot read the SASL password file {self.password_file} '
                f'({type(error).__name__}); point --sasl_password_file at a '
                f'readable UTF-8 file'
            ) from None
        if not lines or not lines[0]:
            raise ValueError(
                f'the SASL password file {self.password_file} is empty; its '
                f'first line is the password'
            )
        return lines[0]

    def client_config(self) -> Dict[str, Any]:
        """Keyword arguments for kafka-python's KafkaConsumer, KafkaProducer or
        KafkaAdminClient: only the settings that apply, nothing for PLAINTEXT but the protocol.

        Reads the password (see `read_password`) each time, so call it where the client is
        made.
        """
        config: Dict[str, Any] = {'security_protocol': self.security_protocol}
        if self.uses_sasl:
            password = self.read_password()
            redact_in_kafka_logs(password)  # kafka-python logs its config at DEBUG
            config.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.username,
                sasl_plain_password=password,
            )
        for option in ('ssl_cafile', 'ssl_certfile', 'ssl_keyfile'):
            if getattr(self, option):
                config[option] = getattr(self, option)
        return config

    def password_source(self) -> str:
        """Where the password comes from, for messages: 'the environment variable X', ..."""
        if self.password_env:
            return f'the environment variable {self.password_env}'
        if self.password_file:
            return f'the file {self.password_file}'
        return 'the password given in code' if self.password else 'no password'

    def describe(self) -> str:
        """One line for messages and logs, never the password: 'SASL_SSL, SCRAM-SHA-512 as
        goldstream (password from the file ...), CA ...'."""
        parts = [self.security_protocol]
        if self.uses_sasl:
            parts.append(
                f'{self.sasl_mechanism} as {self.username} (password from {self.password_source()})'
            )
        for what, path in (('CA', self.ssl_cafile), ('certificate', self.ssl_certfile)):
            if path:
                parts.append(f'{what} {path}')
        return ', '.join(parts)

    def to_arguments(self) -> List[str]:
        """The command-line options that give these settings to another goldstream command
        (e.g. the demo starting the streaming pipeline): the password's variable or file,
        never the password.

        Raises:
          ValueError: the password was given in code: it has no safe place on a command line.
        """
        if self.password:
            raise ValueError(
                'a SASL password given in code cannot be passed on; give its '
                'environment variable or file instead'
            )
        names = {
            'security_protocol': self.security_protocol,
            'sasl_mechanism': self.sasl_mechanism,
            'sasl_username': self.username,
            'sasl_password_env': self.password_env,
            'sasl_password_file': self.password_file,
            'ssl_cafile': self.ssl_cafile,
            'ssl_certfile': self.ssl_certfile,
            'ssl_keyfile': self.ssl_keyfile,
        }
        return [f'--{name}={value}' for name, value in names.items() if value]

    def __repr__(self) -> str:
        shown = ', '.join(
            f'{field.name}=' + ('***' if field.name == 'password' else repr(value))
            for field in dataclasses.fields(self)
            if (value := getattr(self, field.name)) is not None
        )
        return f'KafkaSecurity({shown})'

    __str__ = __repr__


OPTION_NAMES = (
    'security_protocol',
    'sasl_mechanism',
    'sasl_username',
    'sasl_password_env',
    'sasl_password_file',
    'ssl_cafile',
    'ssl_certfile',
    'ssl_keyfile',
)
"""The `dest` of every option `add_arguments` adds."""


def add_arguments(
    parser: argparse.ArgumentParser, environ: Optional[Mapping[str, str]] = None
) -> None:
    """Adds the security options to `parser`, in a group of their own.

    The one definition of these options for every goldstream command: the pipelines'
    PipelineOptions (`pipelines/kafka_security_options.py`), the generator, the demo and the
    dashboard. Each option is spelt with underscores, Beam's style (`--security_protocol`),
    the one style of every goldstream command (pipelines/command_line.py).

    Each option's default is the environment variable `GOLDSTREAM_KAFKA_<OPTION>` (e.g.
    `GOLDSTREAM_KAFKA_SECURITY_PROTOCOL`, `GOLDSTREAM_KAFKA_SASL_PASSWORD_ENV`), so one
    environment configures every client; the command line wins. There is no option for the
    password itself.

    Args:
      parser: The parser to extend.
      environ: Where the defaults come from; `os.environ` by default.
    """
    environ = os.environ if environ is None else environ

    def default(name: str, fallback: Optional[str] = None) -> Optional[str]:
        return environ.get(ENV_PREFIX + name.upper(), fallback)

    def option(name: str, fallback: Optional[str] = None, **settings) -> None:
        group.add_argument(f'--{name}', dest=name, default=default(name, fallback), **settings)

    group = parser.add_argument_group(
        'Kafka security',
        'How to authenticate and encrypt; defaults come from '
        f'{ENV_PREFIX}<OPTION> environment variables (e.g. {ENV_PREFIX}SECURITY_PROTOCOL). '
        'The password is never an option: name its environment variable or its file.',
    )
    option(
        'security_protocol',
        choices=SECURITY_PROTOCOLS,
        fallback='PLAINTEXT',
        metavar='PROTOCOL',
        help=f'how to talk to the brokers: {", ".join(SECURITY_PROTOCOLS)} (default %(default)s)',
    )
    option(
        'sasl_mechanism',
        choices=SASL_MECHANISMS,
        metavar='MECHANISM',
        help=f'SASL mechanism, with SASL_PLAINTEXT or SASL_SSL: {", ".join(SASL_MECHANISMS)}',
    )
    option('sasl_username', metavar='USER', help='SASL user name')
    option(
        'sasl_password_env',
        metavar='VARIABLE',
        help='name of the environment variable that holds the SASL password',
    )
    option('sasl_password_file', metavar='PATH', help='file whose first line is the SASL password')
    option(
        'ssl_cafile',
        metavar='PATH',
        help="PEM file of the CA that signed the brokers' certificates",
    )
    option(
        'ssl_certfile', metavar='PATH', help="PEM file of this client's certificate (mutual TLS)"
    )
    option('ssl_keyfile', metavar='PATH', help="PEM file of this client's private key (mutual TLS)")


def from_arguments(args: Any, environ: Optional[Mapping[str, str]] = None) -> KafkaSecurity:
    """Builds the settings from options that `add_arguments` added and a parser parsed.

    The value keeps the password's variable name or file path, not the password; the
    password is read once here all the same, so a launcher fails at once on a variable that
    is not set or a file it cannot read.

    Args:
      args: The parsed options: an argparse Namespace, or a PipelineOptions view with the
        same attributes.
      environ: Where `--sasl_password_env` is looked up; `os.environ` by default.

    Raises:
      ValueError: both or neither password source with a SASL protocol, a variable that is
        not set, a file that cannot be read, or any check of `KafkaSecurity`.
    """
    security = KafkaSecurity(
        security_protocol=args.security_protocol,
        sasl_mechanism=args.sasl_mechanism,
        username=args.sasl_username,
        ssl_cafile=args.ssl_cafile,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        password_env=args.sasl_password_env,
        password_file=args.sasl_password_file,
    )
    security.read_password(environ)
    return security
