"""Headless Chromium kept open on a live page, driven through the DevTools protocol.

The report page test (`tests.pipelines.daily_report.headless_chromium`) loads a static file once; a
live
page must be watched as it changes. `LiveChromium` starts the same Debian Chromium with the
same flags, but with `--remote-debugging-pipe` (commands on fd 3, replies on fd 4, each a JSON
message ending in a NUL byte; no port, nothing on the network), so a test can evaluate
expressions in the page while it updates, collect every console message and uncaught
exception, and take a screenshot whenever it likes.
"""

import base64
import fcntl
import json
import os
import pathlib
import select
import signal
import subprocess
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

from tests.pipelines.daily_report.headless_chromium import FLAGS, NO_NETWORK_FLAGS, chromium_binary

COMMAND_TIMEOUT_S = 30.0


class LiveChromium:
    """One headless Chromium tab (see the module docstring); use as a context manager.

    Args:
      profile_parent: Folder for the throw-away profile.
      window: Width and height of the viewport, pixels.
    """

    def __init__(self, profile_parent: pathlib.Path, window: Tuple[int, int] = (1280, 1600)):
        self.console: List[str] = []
        """Console messages and uncaught exceptions of the page, as `level: text`."""
        self._profile = tempfile.mkdtemp(prefix='chromium-live-', dir=profile_parent)
        self._window = window
        self._next_id = 0
        self._buffer = b''
        self._process: Optional[subprocess.Popen] = None
        self._session: Optional[str] = None

    def __enter__(self) -> 'LiveChromium':
        to_chromium_read, self._to_chromium = os.pipe()
        self._from_chromium, from_chromium_write = os.pipe()
        # Chromium wants the pipe on fds 3 and 4. A preexec_fn could dup2 them, but forking
        # with a function to run is unsafe once other threads run (gRPC's, with a pipeline):
        # bash moves them instead, after an exec-safe fork (fds 10+ so no move overwrites).
        command_fd = fcntl.fcntl(to_chromium_read, fcntl.F_DUPFD, 10)
        reply_fd = fcntl.fcntl(from_chromium_write, fcntl.F_DUPFD, 10)
        for fd in (to_chromium_read, from_chromium_write):
            os.close(fd)
        command = [
            str(chromium_binary()),
            *FLAGS,
            *NO_NETWORK_FLAGS,
            f'--user-data-dir={self._profile}',
            '--remote-debugging-pipe',
            '--hide-scrollbars',
            f'--window-size={self._window[0]},{self._window[1]}',
            'about:blank',
        ]
        move_fds = f'exec "$0" "$@" 3<&{command_fd} 4>&{reply_fd} {command_fd}<&- {reply_fd}>&-'
        try:
            self._process = subprocess.Popen(
                ['bash', '-c', move_fds, *command],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(command_fd, reply_fd),
                start_new_session=True,
            )
        finally:
            os.close(command_fd)
            os.close(reply_fd)
        target = self._call('Target.createTarget', {'url': 'about:blank'})['targetId']
        self._session = self._call('Target.attachToTarget', {'targetId': target, 'flatten': True})[
            'sessionId'
        ]
        for domain in ('Runtime.enable', 'Log.enable', 'Page.enable'):
            self._call(domain, session=True)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._process is not None and self._process.poll() is None:
            try:
                self._send('Browser.close', {})
                self._process.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self._process.pid, signal.SIGKILL)  # the browser and its helpers only
                self._process.wait()
        for fd in (self._to_chromium, self._from_chromium):
            try:
                os.close(fd)
            except OSError:
                pass

    def open(self, url: str, timeout_s: float = COMMAND_TIMEOUT_S) -> None:
        """Navigates the tab to `url` and returns once the page has loaded."""
        reply = self._call('Page.navigate', {'url': url}, session=True)
        if reply.get('errorText'):
            raise AssertionError(f'chromium could not open {url}: {reply["errorText"]}')
        deadline = time.monotonic() + timeout_s
        while (
            self.evaluate(
                f'location.href === {json.dumps(url)} && document.readyState === "complete"'
            )
            is not True
        ):
            if time.monotonic() > deadline:
                raise AssertionError(f'{url} did not finish loading within {timeout_s:.0f} s')
            time.sleep(0.05)  # between two looks at the page's load state

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serializable)."""
        reply = self._call(
            'Runtime.evaluate',
            {'expression': expression, 'returnByValue': True, 'awaitPromise': True},
            session=True,
        )
        if 'exceptionDetails' in reply:
            raise AssertionError(f'{expression!r} threw: {reply["exceptionDetails"]}')
        return reply['result'].get('value')

    def screenshot(self, path: pathlib.Path) -> pathlib.Path:
        """Writes a PNG of the whole page to `path`."""
        height = int(self.evaluate('document.documentElement.scrollHeight'))
        reply = self._call(
            'Page.captureScreenshot',
            {
                'format': 'png',
                'captureBeyondViewport': True,
                'clip': {'x': 0, 'y': 0, 'width': self._window[0], 'height': height, 'scale': 1},
            },
            session=True,
        )
        path.write_bytes(base64.b64decode(reply['data']))
        return path

    # -- the protocol ------------------------------------------------------------------------

    def _send(self, method: str, params: Dict, session: bool = False) -> int:
        self._next_id += 1
        message = {'id': self._next_id, 'method': method, 'params': params}
        if session:
            message['sessionId'] = self._session
        os.write(self._to_chromium, json.dumps(message).encode() + b'\0')
        return self._next_id

    def _call(self, method: str, params: Optional[Dict] = None, session: bool = False) -> Dict:
        wanted = self._send(method, params or {}, session)
        deadline = time.monotonic() + COMMAND_TIMEOUT_S
        while True:
            for message in self._read_messages(deadline, method):
                if message.get('id') == wanted:
                    if 'error' in message:
                        raise AssertionError(f'chromium {method} failed: {message["error"]}')
                    return message.get('result', {})
                self._note_event(message)

    def _read_messages(self, deadline: float, method: str) -> List[Dict]:
        assert self._process is not None  # started
        while b'\0' not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or self._process.poll() is not None:
                raise AssertionError(
                    f'chromium did not answer {method} within '
                    f'{COMMAND_TIMEOUT_S:.0f} s (exit code '
                    f'{self._process.poll()})'
                )
            ready, _, _ = select.select([self._from_chromium], [], [], left)
            if ready:
                chunk = os.read(self._from_chromium, 1 << 20)
                if not chunk:
                    raise AssertionError(f'chromium closed its pipe while answering {method}')
                self._buffer += chunk
        *complete, self._buffer = self._buffer.split(b'\0')
        return [json.loads(raw) for raw in complete]

    def _note_event(self, message: Dict) -> None:
        method, params = message.get('method'), message.get('params', {})
        if method == 'Runtime.consoleAPICalled':
            text = ' '.join(
                str(arg.get('value', arg.get('description', ''))) for arg in params.get('args', [])
            )
            self.console.append(f'{params.get("type")}: {text}')
        elif method == 'Runtime.exceptionThrown':
            details = params.get('exceptionDetails', {})
            description = details.get('exception', {}).get('description') or details.get('text')
            self.console.append(f'exception: {description}')
        elif method == 'Log.entryAdded':
            entry = params.get('entry', {})
            self.console.append(
                f'{entry.get("level")}: {entry.get("text")} ({entry.get("url", "")})'
            )
