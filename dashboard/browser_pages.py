"""The topic browser's HTML: the topic list and a topic's latest records, or a plain message.

Rendered on the server (no script needed): every value is escaped, a failure is a sentence in
a `role="alert"` box, never a stack trace.
"""

import html
import json
import urllib.parse
from typing import List, Optional

from dashboard.settings import DashboardSettings
from dashboard.topic_browser import BrowsedRecord, TopicSummary

_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · goldstream</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/dashboard.css"></head>
<body><header><h1>{title}</h1><nav><a href="/">live view</a> · <a href="/topics">topics</a>
 · <a href="/metrics">metrics</a></nav></header><main>
"""
_TAIL = '</main></body></html>\n'


def _page(title: str, body: str) -> str:
    return _HEAD.format(title=html.escape(title)) + body + _TAIL


def _error_box(message: str) -> str:
    return f'<p class="error" role="alert" id="browser-error">{html.escape(message)}</p>\n'


def topics_page(
    topics: Optional[List[TopicSummary]], error: Optional[str], settings: DashboardSettings
) -> str:
    """The list of topics with partitions, end offsets and their kind, or `error`."""
    if error:
        return _page('Topics', _error_box(error))
    assert topics is not None  # given when there is no error
    rows = []
    for topic in topics:
        kind = settings.kind_of(topic.name) or ''
        link = '/topics/' + urllib.parse.quote(topic.name, safe='')
        ends = ', '.join(f'{p}: {o:,}' for p, o in sorted(topic.end_offsets.items()))
        rows.append(
            f'<tr><td><a href="{link}">{html.escape(topic.name)}</a></td>'
            f'<td>{html.escape(kind)}</td><td class="num">{topic.partitions}</td>'
            f'<td class="num">{topic.records:,}</td><td>{ends}</td></tr>'
        )
    table = (
        '<table id="topics"><thead><tr><th>topic</th><th>kind</th><th>partitions</th>'
        '<th>records</th><th>end offset per partition</th></tr></thead><tbody>'
        + ''.join(rows)
        + '</tbody></table>\n'
    )
    if not topics:
        table = '<p>The cluster has no topics yet.</p>\n'
    return _page('Topics', table)


def records_page(topic: str, records: Optional[List[BrowsedRecord]], error: Optional[str]) -> str:
    """A topic's latest records, newest first, or `error`."""
    title = f'Topic {topic}'
    if error:
        return _page(title, _error_box(error))
    if not records:
        return _page(title, '<p id="no-records">The topic has no records.</p>\n')
    rows = []
    for record in records:
        if record.fields is not None:
            shown = html.escape(json.dumps(record.fields, ensure_ascii=False, default=str))
        else:
            shown = f'<span class="error">{html.escape(record.error or "")}</span>'
        rows.append(
            f'<tr data-kind="{html.escape(record.kind)}"><td class="num">'
            f'{record.partition}</td><td class="num">{record.offset}</td>'
            f'<td>{record.time}</td><td>{html.escape(record.key or "")}</td>'
            f'<td>{html.escape(record.kind)}</td><td>{record.encoding}</td>'
            f'<td class="value">{shown}</td></tr>'
        )
    return _page(
        title,
        f'<p>The latest {len(records)} records, newest first.</p>\n'
        '<table id="records"><thead><tr><th>partition</th><th>offset</th>'
        '<th>time (UTC)</th><th>key</th><th>kind</th><th>encoding</th><th>value</th>'
        '</tr></thead><tbody>' + ''.join(rows) + '</tbody></table>\n',
    )
