"""Prints the daily report DAG's shape as JSON, as Airflow's own DagBag loads it.

Run with Airflow's interpreter (`test_dag_integrity` does): `python dag_shape.py <dags> <out>`
writes `{"import_errors": {...}, "dags": {dag_id: {...settings, "tasks": {...}}}}` to the file
`<out>` (Airflow logs to stdout, so the JSON goes to a file of its own).
"""

import json
import pathlib
import sys
from typing import Any, Dict

from airflow.dag_processing.dagbag import DagBag


def _task(task):
    return {
        'retries': task.retries,
        'retry_delay_s': task.retry_delay.total_seconds(),
        'retry_exponential_backoff': task.retry_exponential_backoff,
        'max_retry_delay_s': (
            task.max_retry_delay.total_seconds() if task.max_retry_delay else None
        ),
        'trigger_rule': str(
            task.trigger_rule.value if hasattr(task.trigger_rule, 'value') else task.trigger_rule
        ),
        'upstream': sorted(task.upstream_task_ids),
        'downstream': sorted(task.downstream_task_ids),
    }


def _attribute(timetable, name):
    """A timetable's setting (the SDK's timetables name it plainly, core's with a `_`)."""
    for attribute in (name, f'_{name}'):
        if hasattr(timetable, attribute):
            return getattr(timetable, attribute)
    return None


def main(dags_folder: str, out: str) -> None:
    bag = DagBag(dag_folder=dags_folder, bundle_path=pathlib.Path(dags_folder))
    errors = {str(k): str(v) for k, v in bag.import_errors.items()}
    shape: Dict[str, Any] = {'import_errors': errors, 'dags': {}}
    for dag_id, dag in bag.dags.items():
        timetable = dag.timetable
        shape['dags'][dag_id] = {
            'schedule': _attribute(timetable, 'expression'),
            'timezone': str(_attribute(timetable, 'timezone')),
            'timetable': type(timetable).__name__,
            'catchup': dag.catchup,
            'max_active_runs': dag.max_active_runs,
            'start_date': dag.start_date.isoformat(),
            'tags': sorted(dag.tags),
            'params': sorted(dag.params.keys()),
            'tasks': {task.task_id: _task(task) for task in dag.tasks},
        }
    with open(out, 'w', encoding='utf-8') as handle:
        json.dump(shape, handle, indent=1, sort_keys=True)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
