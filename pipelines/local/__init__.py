"""Running goldstream on this machine.

`cache` says where set-up put the tools; `process` owns one background process (pid file,
readiness probe, stop, log tail), on which `broker` (with `secure_broker_files`), `flink`,
`live_page` and `airflow` run, behind `python -m pipelines.local ...`; `harness` plans
traffic, runs a pipeline and checks what came out against the ground truth; `live_run` is a
live job in a process of its own and `process_tree` finds every process of a job."""
