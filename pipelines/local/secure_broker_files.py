"""The secured broker's CA, certificates, store password and SCRAM users, made once.

`./run_local.sh broker start --secure` (pipelines/local/broker.py) makes them on its first
start with openssl and keytool: a CA, the broker's certificate for 127.0.0.1, a client
certificate for the user `goldstream`, the broker's PKCS12 key and trust stores, and random
passwords for the stores and the SCRAM users `admin` (the broker's own) and `goldstream`.
"""

import os
import pathlib
import shutil
import subprocess
from typing import IO, List, Sequence

from pipelines.local.process import ProcessFailed, say, tail

USERS = ('admin', 'goldstream')
CLIENT_USER = 'goldstream'
SECRETS = ('store', *USERS)
DAYS = '3650'


class SecureBrokerFiles:
    """Where the secured broker's TLS files and passwords live under its state folder."""

    def __init__(self, state: pathlib.Path) -> None:
        self.state = state
        self.tls_dir = state / 'tls'
        self.secrets_dir = state / 'secrets'

    def password_file(self, name: str) -> pathlib.Path:
        return self.secrets_dir / f'{name}.password'

    def password(self, name: str) -> str:
        return self.password_file(name).read_text().strip()

    def client_options(self) -> List[str]:
        """The options every goldstream Kafka client takes to reach the secured broker."""
        return [
            '--security_protocol=SASL_SSL',
            '--sasl_mechanism=SCRAM-SHA-512',
            f'--sasl_username={CLIENT_USER}',
            f'--sasl_password_file={self.password_file(CLIENT_USER)}',
            f'--ssl_cafile={self.tls_dir / "ca.pem"}',
            f'--ssl_certfile={self.tls_dir / "client.pem"}',
            f'--ssl_keyfile={self.tls_dir / "client.key"}',
        ]

    def scram_format_arguments(self) -> List[str]:
        """The storage tool's options that create the SCRAM users."""
        arguments: List[str] = []
        for name in USERS:
            arguments += [
                '--add-scram',
                f'SCRAM-SHA-512=[name={name},password={self.password(name)}]',
            ]
        return arguments

    def make_once(self, data_dir: pathlib.Path, log_dir: pathlib.Path) -> None:
        """Makes the CA, certificates, stores and passwords unless an earlier start did.

        New users need a newly formatted storage (the users are written into it), so
        `data_dir` is emptied with them.

        Raises:
          ProcessFailed: openssl or keytool failed; the error carries their output.
        """
        stamp = self.tls_dir / '.goldstream-complete'
        if stamp.is_file():
            return
        say(
            f"Creating a CA, the broker's and a client's certificates and the SCRAM users' "
            f'passwords in {self.state} (first start)'
        )
        for folder in (self.tls_dir, self.secrets_dir, data_dir):
            shutil.rmtree(folder, ignore_errors=True)
        for folder in (self.tls_dir, self.secrets_dir):
            folder.mkdir(parents=True, mode=0o700)
        log_dir.mkdir(parents=True, exist_ok=True)
        log = log_dir / 'secure-setup.out'
        umask = os.umask(0o077)  # keys and passwords readable by this user only
        try:
            self._make(log)
        finally:
            os.umask(umask)
        for leftover in ('broker.csr', 'client.csr', 'broker.ext'):
            (self.tls_dir / leftover).unlink(missing_ok=True)
        stamp.touch()

    def _make(self, log: pathlib.Path) -> None:
        with log.open('w') as output:
            try:
                for name in SECRETS:
                    self._run(
                        ['openssl', 'rand', '-hex', '-out', str(self.password_file(name)), '24'],
                        output,
                    )
                for command in self._tls_commands():
                    self._run(command, output)
            except (OSError, subprocess.CalledProcessError) as error:
                output.write(f'{error}\n')
                output.flush()
                raise ProcessFailed(
                    "could not create the secured broker's certificates "
                    '(openssl, keytool); the output is above.',
                    log_tail=tail(log, 20),
                ) from error

    def _run(self, command: Sequence[str], output: IO[str]) -> None:
        subprocess.run(
            list(command),
            cwd=self.tls_dir,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=True,
        )

    def _tls_commands(self) -> List[List[str]]:
        store_password = f'file:{self.password_file("store")}'
        extensions = self.tls_dir / 'broker.ext'
        extensions.write_text('subjectAltName=IP:127.0.0.1,DNS:localhost\n')
        sign = ['-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', DAYS]
        return [
            [
                'openssl',
                'req',
                '-x509',
                '-newkey',
                'rsa:2048',
                '-noenc',
                '-days',
                DAYS,
                '-subj',
                '/CN=goldstream local CA',
                '-keyout',
                'ca.key',
                '-out',
                'ca.pem',
            ],
            [
                'openssl',
                'req',
                '-newkey',
                'rsa:2048',
                '-noenc',
                '-subj',
                '/CN=127.0.0.1',
                '-keyout',
                'broker.key',
                '-out',
                'broker.csr',
            ],
            [
                'openssl',
                'x509',
                '-req',
                '-in',
                'broker.csr',
                *sign,
                '-extfile',
                str(extensions),
                '-out',
                'broker.pem',
            ],
            [
                'openssl',
                'req',
                '-newkey',
                'rsa:2048',
                '-noenc',
                '-subj',
                f'/CN={CLIENT_USER}',
                '-keyout',
                'client.key',
                '-out',
                'client.csr',
            ],
            ['openssl', 'x509', '-req', '-in', 'client.csr', *sign, '-out', 'client.pem'],
            [
                'openssl',
                'pkcs12',
                '-export',
                '-in',
                'broker.pem',
                '-inkey',
                'broker.key',
                '-certfile',
                'ca.pem',
                '-name',
                'broker',
                '-passout',
                store_password,
                '-out',
                'broker.p12',
            ],
            [
                'keytool',
                '-importcert',
                '-noprompt',
                '-alias',
                'goldstream-ca',
                '-file',
                'ca.pem',
                '-storetype',
                'PKCS12',
                '-keystore',
                'truststore.p12',
                '-storepass:file',
                str(self.password_file('store')),
            ],
        ]
