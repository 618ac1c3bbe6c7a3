"""Helpers of the daily report's Airflow DAG (`dags/daily_report.py`).

Airflow puts the DAG folder on `sys.path`, so the DAG imports this package as
`goldstream_dag`. Its modules import nothing from Airflow at module level, so the project's
tests can check them without Airflow installed: `settings` resolves what the DAG runs with,
`command` builds and runs the report's command line in the project's interpreter, and
`mail` composes the report and failure e-mails.
"""
