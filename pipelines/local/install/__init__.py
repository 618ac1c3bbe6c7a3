"""The set-up of the tools a local run needs, into the cache (`pipelines/local/cache.py`).

One module per tool: `kafka_jars` (Kafka's jars through Maven), `prism` (built from Beam's Go
module with `infra/prism/*.patch`), `flink_job_server` (Beam's Flink runner through Maven,
behind a launcher jar), `flink_dist` (Flink's distribution from PyPI), `airflow_venv`
(Airflow's own venv) and `chromium` (Debian's package, for the report page's browser test).
`steps` runs them in order under the cache's lock: `python -m pipelines.local setup`, which
`./run_local.sh setup` calls once it has built the project's venv (the one step bash keeps).

Each step leaves a stamp (or its binary) last and checks it first, so a second run downloads
and builds nothing; a failed step leaves no stamp, and the next run starts it again.
"""
