"""Finding a job's processes (session, group, descendants) and killing them all."""

import os
import subprocess
import sys

from pipelines.local.process_tree import (
    ProcessInfo,
    job_processes,
    job_rss_bytes,
    kill_job,
    process_table,
)

LEADER = 100
SAMPLE_TABLE = {
    1: ProcessInfo(0, 1, 1, 'S'),
    LEADER: ProcessInfo(1, LEADER, LEADER, 'S'),  # the job, leading its session
    101: ProcessInfo(LEADER, LEADER, LEADER, 'S'),  # its runner (Prism, a JVM)
    102: ProcessInfo(101, 102, 102, 'S'),  # a runner's child in a session of its own
    103: ProcessInfo(1, LEADER, LEADER, 'S'),  # orphaned, still in the session
    104: ProcessInfo(LEADER, LEADER, LEADER, 'Z'),  # a zombie: already dead
    200: ProcessInfo(1, 200, 200, 'S'),  # someone else's
    201: ProcessInfo(200, 200, 200, 'S'),
}


def test_the_job_is_its_session_group_and_descendants_without_zombies():
    assert job_processes(LEADER, SAMPLE_TABLE) == {LEADER, 101, 102, 103}


def test_a_job_that_is_gone_has_no_processes():
    assert job_processes(999, SAMPLE_TABLE) == set()


def test_kill_job_leaves_nothing_of_a_real_job_alive():
    # A leader with a child in its session and a grandchild that left it (setsid).
    script = 'sleep 300 & setsid sleep 300 & echo ready; wait'
    job = subprocess.Popen(['bash', '-c', script], stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert job.stdout.readline() == b'ready\n'
        before = job_processes(job.pid)
        assert len(before) == 3, before
        killed = kill_job(job.pid, deadline_s=10)
        assert before <= set(killed)
        job.wait(10)
        table = process_table()
        assert not {pid for pid in before if pid in table and table[pid].state != 'Z'}
    finally:
        if job.poll() is None:
            os.killpg(job.pid, 9)
            job.wait(10)
        job.stdout.close()


def test_a_jobs_memory_counts_its_children():
    holder = (
        'import sys; block = b"x" * (64 * 1024 * 1024); print("ready", flush=True); '
        'sys.stdin.read()'
    )
    job = subprocess.Popen(
        ['bash', '-c', f"{sys.executable} -c '{holder}'; echo done"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert job.stdout.readline() == b'ready\n'
        own = process_table()[job.pid].rss_bytes
        assert job_rss_bytes(job.pid) >= own + 64 * 1024 * 1024
    finally:
        job.stdin.close()
        job.wait(10)
        job.stdout.close()
