"""The secured broker for tests: `./run_local.sh broker start --secure`, once per session.

It listens on 127.0.0.1:$GOLDSTREAM_KAFKA_SECURE_PORT (default $GOLDSTREAM_KAFKA_PORT + 2,
9094) with SASL_SSL, SCRAM-SHA-512 and client certificates; run_local.sh creates its CA,
certificates and users under .local/kafka-secure on the first start. `status --secure` prints the
security options
that reach it, which every goldstream command takes as they are.
"""

import os
import pathlib
import shlex
import subprocess
from typing import Dict, List, NamedTuple

from connectors.kafka_security import KafkaSecurity
from tests.integration.local_scripts import ROOT

START_TIMEOUT_S = 300  # the first start makes the certificates and formats the storage


class SecureKafka(NamedTuple):
    """Where the secured broker is and how the client user `goldstream` reaches it."""

    bootstrap: str
    options: List[str]  # --security_protocol=SASL_SSL ... --sasl_password_file=...
    password: str  # for tests that look for it in output, or export it

    def options_with_password_env(self, variable: str) -> List[str]:
        """The same options with the password read from `variable` instead of the file."""
        return [
            f'--sasl_password_env={variable}'
            if option.startswith('--sasl_password_file=')
            else option
            for option in self.options
        ]

    def security(self) -> KafkaSecurity:
        settings: Dict[str, str] = dict(option[2:].split('=', 1) for option in self.options)
        return KafkaSecurity(
            settings['security_protocol'],
            settings['sasl_mechanism'],
            settings['sasl_username'],
            ssl_cafile=settings['ssl_cafile'],
            ssl_certfile=settings['ssl_certfile'],
            ssl_keyfile=settings['ssl_keyfile'],
            password_file=settings['sasl_password_file'],
        )


def _script(*args: str, timeout_s: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / 'run_local.sh'), 'broker', *args, '--secure'],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def start() -> bool:
    """Starts the secured broker unless it runs; returns whether this call started it.

    Raises:
      RuntimeError: the start failed (the message has the script's output).
    """
    if _script('status').returncode == 0:
        return False
    started = _script('start', timeout_s=START_TIMEOUT_S)
    if started.returncode != 0:
        raise RuntimeError(f'./run_local.sh broker start --secure failed:\n{started.stderr}')
    return True


def stop() -> None:
    _script('stop')


def describe() -> SecureKafka:
    """The running secured broker's address and client options, from `status --secure`."""
    status = _script('status')
    if status.returncode != 0:
        raise RuntimeError(f'the secured broker is not up: {status.stdout}{status.stderr}')
    lines = status.stdout.splitlines()
    bootstrap = lines[0].split(', ')[1]
    options = shlex.split(
        next(line for line in lines if line.startswith('client options: ')).removeprefix(
            'client options: '
        )
    )
    password_file = next(
        option.split('=', 1)[1] for option in options if option.startswith('--sasl_password_file=')
    )
    password = pathlib.Path(password_file).read_text(encoding='utf-8').splitlines()[0]
    return SecureKafka(bootstrap, options, password)
