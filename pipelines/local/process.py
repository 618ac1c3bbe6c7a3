"""One local background process this clone owns: the broker, a Flink JobManager, ...

`LocalProcess` starts a command detached (a session and process group of its own, stdin from
/dev/null, stdout and stderr into a log file) and records its pid in a pid file. Later calls,
from any process, find it again through that file; a pid counts as ours only while it is
alive and its command line still holds the process's `marker` (so a pid the system reused
for something else is never stopped). Readiness is polled against a deadline; a process
that dies or does not get ready in time is reported with the tail of its logs. Stopping
sends SIGTERM to the whole process group, then SIGKILL after a deadline. Linux only (/proc).
"""

import dataclasses
import os
import pathlib
import signal
import socket
import sys
import time
from typing import Callable, Mapping, Optional, Sequence, Tuple

from pipelines.local.process_tree import job_processes, kill_job, process_table

POLL_S = 0.2
PROGRESS_EVERY_S = 10.0
LOG_TAIL_LINES = 40
EXEC_DEADLINE_S = 5.0  # for a spawned command line to show in /proc
REAP_DEADLINE_S = 10.0  # for the parent (often init) to collect ended processes


def say(message: str) -> None:
    """One progress line on stderr, as run_local.sh prints its own."""
    print(f'==> {message}', file=sys.stderr, flush=True)


class ProcessFailed(RuntimeError):
    """A local process could not be started, or did not get ready.

    Attributes:
      hints: Lines that tell the user what to do about it.
      log_tail: The last lines of the process's logs ('' when there are none).
    """

    def __init__(self, message: str, hints: Sequence[str] = (), log_tail: str = '') -> None:
        super().__init__(message)
        self.hints = tuple(hints)
        self.log_tail = log_tail

    def report(self) -> str:
        """The log tail, then `error: <message>` and the hints, as run_local.sh prints errors."""
        lines = [f'error: {self}', *(f'       {hint}' for hint in self.hints)]
        return self.log_tail + '\n'.join(lines) + '\n'


def port_in_use(port: int, host: str = '127.0.0.1') -> bool:
    """Whether something accepts TCP connections on `host:port`."""
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0


def is_alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not; a zombie child of ours is reaped here)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        with open(f'/proc/{pid}/stat', encoding='ascii', errors='replace') as stat:
            state = stat.read().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != 'Z'


def _wait_until_reaped(leader: int, deadline_s: float) -> None:
    """Waits, at most `deadline_s`, until no process of the session or group `leader` led is
    left in the process table, not even ended ones, so that a caller that returns after a
    stop finds no trace of them (their parent, often init, collects them a moment later;
    when that is this process, is_alive does)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        is_alive(leader)
        if not any(
            pid == leader or info.pgid == leader or info.sid == leader
            for pid, info in process_table().items()
        ):
            return
        time.sleep(POLL_S / 4)  # the interval between two looks at the process table


def command_line(pid: int) -> Tuple[str, ...]:
    """The arguments `pid` was started with (empty when it is gone)."""
    try:
        raw = pathlib.Path(f'/proc/{pid}/cmdline').read_bytes()
    except OSError:
        return ()
    return tuple(part.decode(errors='replace') for part in raw.split(b'\0') if part)


def _holds_in_order(arguments: Sequence[str], marker: Sequence[str]) -> bool:
    width = len(marker)
    return any(
        tuple(arguments[start : start + width]) == tuple(marker)
        for start in range(len(arguments) - width + 1)
    )


def tail(path: pathlib.Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last `lines` lines of `path`, under a heading naming it ('' if empty or missing)."""
    try:
        text = path.read_text(errors='replace')
    except OSError:
        return ''
    if not text.strip():
        return ''
    last = '\n'.join(text.splitlines()[-lines:])
    return f'--- last lines of {path} ---\n{last}\n'


@dataclasses.dataclass(frozen=True)
class LocalProcess:
    """A background process this clone starts, finds again through its pid file, and stops.

    Attributes:
      name: How messages call it ('Kafka broker', 'Flink jobmanager').
      pid_file: Where its pid is kept while it runs.
      log_file: Where its stdout and stderr go.
      marker: Consecutive arguments of its command line that only this clone's process has
        (e.g. the main class and this clone's config file).
      other_logs: Logs the process writes itself, shown with `log_file` when it fails.
      called: How a sentence names it (default 'the <name>'; 'Airflow' for a proper name).
    """

    name: str
    pid_file: pathlib.Path
    log_file: pathlib.Path
    marker: Tuple[str, ...]
    other_logs: Tuple[pathlib.Path, ...] = ()
    called: str = ''

    @property
    def subject(self) -> str:
        return self.called or f'the {self.name}'

    def pid(self) -> Optional[int]:
        """The pid of the process this clone started, if it still runs."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if pid <= 0 or not is_alive(pid):
            return None
        return pid if _holds_in_order(command_line(pid), self.marker) else None

    def start(self, command: Sequence[str], env: Optional[Mapping[str, str]] = None) -> int:
        """Starts `command` detached (own session), output into `log_file`; returns its pid.

        `command[0]` is looked up on PATH. The log file starts empty on each start.
        """
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        redirect = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (
                os.POSIX_SPAWN_OPEN,
                1,
                str(self.log_file),
                os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                0o644,
            ),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ]
        pid = os.posix_spawnp(
            command[0],
            list(command),
            dict(os.environ if env is None else env),
            file_actions=redirect,
            setsid=True,
        )
        self.pid_file.write_text(f'{pid}\n')
        # posix_spawn returns while the kernel is still finishing the exec, before the new
        # command line is readable in /proc; until it is, pid() would not know the process.
        deadline = time.monotonic() + EXEC_DEADLINE_S
        while not command_line(pid) and is_alive(pid) and time.monotonic() < deadline:
            time.sleep(POLL_S / 20)  # the interval between two looks at /proc/<pid>/cmdline
        return pid

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of each of its non-empty logs, each under a heading."""
        return ''.join(tail(path, lines) for path in (self.log_file, *self.other_logs))

    def wait_until_ready(
        self, pid: int, ready: Callable[[], bool], deadline_s: float, what: str
    ) -> float:
        """Polls `ready()` until it holds; returns the seconds it took.

        `what` completes "did not ... within N s" (e.g. 'answer a metadata request').
        A line on stderr every PROGRESS_EVERY_S says it is still waiting.

        Raises:
          ProcessFailed: the process exited first (its pid file is removed), or `deadline_s`
            passed first (the process is left running: the caller decides to stop it). The
            error carries the tail of its logs.
        """
        started = time.monotonic()
        next_progress = started + PROGRESS_EVERY_S
        while not ready():
            now = time.monotonic()
            if not is_alive(pid):
                self.pid_file.unlink(missing_ok=True)
                raise ProcessFailed(
                    f'{self.subject} exited during start-up; its log is above.',
                    log_tail=self.log_tail(),
                )
            if now - started >= deadline_s:
                raise ProcessFailed(
                    f'{self.subject} did not {what} within {deadline_s:g} s; its log is above.',
                    log_tail=self.log_tail(),
                )
            if now >= next_progress:
                say(
                    f'still waiting for {self.subject} to {what} ({now - started:.0f} s of '
                    f'{deadline_s:g} s; logs in {self.log_file.parent})'
                )
                next_progress += PROGRESS_EVERY_S
            time.sleep(POLL_S)  # the interval between two readiness checks
        return time.monotonic() - started

    def stop(self, deadline_s: float) -> bool:
        """Stops the process this clone started, and every process of its group: SIGTERM,
        then SIGKILL for what is left after `deadline_s`. Removes the pid file.

        Returns:
          Whether there was a process to stop.
        """
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        say(f'Stopping {self.name} (pid {pid})')
        self._signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + deadline_s
        while job_processes(pid) and time.monotonic() < deadline:
            time.sleep(POLL_S / 4)  # the interval between two looks at the process table
            is_alive(pid)  # reaps it, if it is a child of ours
        if job_processes(pid):
            say(f'{self.name} did not stop within {deadline_s:g} s; killing it')
            kill_job(pid)
        _wait_until_reaped(pid, REAP_DEADLINE_S)
        self.pid_file.unlink(missing_ok=True)
        return True

    @staticmethod
    def _signal(pid: int, signum: int) -> None:
        """Signals the process group `pid` leads (start() made it a leader), else `pid`."""
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signum)
            else:
                os.kill(pid, signum)
        except ProcessLookupError:
            pass
