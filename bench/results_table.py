"""Printing a benchmark table and writing it to bench/results/ as Markdown and JSON."""

import datetime
import json
import pathlib
import platform
import sys
from typing import Dict, Optional, Sequence

RESULTS_DIR = pathlib.Path(__file__).resolve().parent / 'results'


def context(**extra) -> Dict:
    """When and where a benchmark ran, plus its own parameters."""
    info = {
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'python': platform.python_version(),
        'machine': platform.machine(),
    }
    info.update(extra)
    return info


def render(title: str, columns: Sequence[str], rows: Sequence[Sequence], info: Dict) -> str:
    lines = [
        f'# {title}',
        '',
        ', '.join(f'{k}: {v}' for k, v in info.items()),
        '',
        '| ' + ' | '.join(columns) + ' |',
        '|' + '|'.join('---' for _ in columns) + '|',
    ]
    lines += ['| ' + ' | '.join(_cell(value) for value in row) + ' |' for row in rows]
    return '\n'.join(lines) + '\n'


def _cell(value) -> str:
    if isinstance(value, float):
        return f'{value:,.2f}' if value < 100 else f'{value:,.0f}'
    if isinstance(value, int):
        return f'{value:,}'
    return str(value)


def publish(
    name: str,
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence],
    info: Dict,
    directory: Optional[pathlib.Path] = None,
) -> pathlib.Path:
    """Prints the table and writes `<name>.md` and `<name>.json` to `directory` (default
    `bench/results/`); returns the .md path."""
    text = render(title, columns, rows, info)
    sys.stdout.write(text)
    directory = RESULTS_DIR if directory is None else pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f'{name}.json').write_text(
        json.dumps(
            {
                'title': title,
                'context': info,
                'columns': list(columns),
                'rows': [list(row) for row in rows],
            },
            indent=2,
        )
        + '\n'
    )
    path = directory / f'{name}.md'
    path.write_text(text)
    return path
