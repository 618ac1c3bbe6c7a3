"""Finding and killing every process of a job: its session, its process group, its descendants.

A job started with `start_new_session=True` (pipelines/local/live_run.py) leads a session; its
runner's processes (Prism, the Flink job server's JVM) are its children. `kill_job` sends
SIGKILL to all of them, as `kill -9` of a crashed machine would end them, and returns only
when none is left. Linux only (/proc).
"""

import collections
import os
import signal
import time
from typing import Dict, NamedTuple, Optional, Set, Tuple

KILL_DEADLINE_S = 30.0
POLL_S = 0.05
PAGE_BYTES = os.sysconf('SC_PAGE_SIZE')


class ProcessInfo(NamedTuple):
    """What /proc/<pid>/stat says of a process: parent, group, session, state and resident
    memory (bytes)."""

    ppid: int
    pgid: int
    sid: int
    state: str
    rss_bytes: int = 0


def process_table() -> Dict[int, ProcessInfo]:
    """Every process now on the machine (those that end while being read are skipped)."""
    table = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as stat:
                fields = stat.read().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue
        table[int(entry)] = ProcessInfo(
            int(fields[1]), int(fields[2]), int(fields[3]), fields[0], int(fields[21]) * PAGE_BYTES
        )
    return table


def job_processes(leader: int, table: Optional[Dict[int, ProcessInfo]] = None) -> Set[int]:
    """The live (not zombie) processes of the job `leader` started: the leader, its session
    and process group, and every descendant of any of them."""
    table = process_table() if table is None else table
    children = collections.defaultdict(list)
    for pid, info in table.items():
        children[info.ppid].append(pid)
    members = {
        pid
        for pid, info in table.items()
        if pid == leader or info.sid == leader or info.pgid == leader
    }
    stack = list(members)
    while stack:
        for child in children[stack.pop()]:
            if child not in members:
                members.add(child)
                stack.append(child)
    return {pid for pid in members if table[pid].state != 'Z'}


def job_rss_bytes(leader: int) -> int:
    """The resident memory of every live process of the job `leader` started."""
    table = process_table()
    return sum(table[pid].rss_bytes for pid in job_processes(leader, table))


def kill_job(leader: int, deadline_s: float = KILL_DEADLINE_S) -> Tuple[int, ...]:
    """SIGKILLs the job `leader` started (see `job_processes`) and polls until none of its
    processes is alive; a process that appears meanwhile (a fork) is killed too.

    Returns:
        The pids killed, sorted.

    Raises:
        RuntimeError: Some process of the job still ran after `deadline_s`; names them.
    """
    killed: Set[int] = set()
    deadline = time.monotonic() + deadline_s
    while True:
        table = process_table()
        alive = job_processes(leader, table) | {
            pid for pid in killed if pid in table and table[pid].state != 'Z'
        }
        if not alive:
            return tuple(sorted(killed))
        if time.monotonic() > deadline:
            raise RuntimeError(
                f'processes of job {leader} survived SIGKILL for '
                f'{deadline_s:.0f} s: {sorted(alive)}'
            )
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            killed.add(pid)
        time.sleep(POLL_S)
