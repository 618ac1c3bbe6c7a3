"""The dashboard's web server (aiohttp): the live page, its event stream, the topic browser and
the Prometheus endpoint.

| path | what |
|---|---|
| `/` | the live page (`static/index.html`, updated from `/api/events`) |
| `/api/events` | server-sent events: one `state` event per change, at most every 0.25 s |
| `/api/state` | the same state, once, as JSON |
| `/topics`, `/topics/{topic}?limit=N` | the topic browser, as HTML |
| `/api/topics`, `/api/topics/{topic}?limit=N` | the topic browser, as JSON |
| `/metrics` | Prometheus text format |
| `/static/...` | the page's script, style and the vendored Chart.js |

Handlers never block the event loop on Kafka: the live figures come from the watcher's
snapshot, and browser reads run in the default thread pool.
"""

import asyncio
import functools
import json
import pathlib
from typing import Any, Dict, Optional

from aiohttp import web

from dashboard import browser_pages
from dashboard.kafka_access import BrokerUnreachable, TopicNotFound
from dashboard.prometheus_metrics import DashboardCollector, exposition, registry_for
from dashboard.topic_browser import latest_records, list_topics
from dashboard.watcher import Watcher

STATIC = pathlib.Path(__file__).resolve().parent / 'static'
PUSH_INTERVAL_S = 0.25
"""Least time between two state events to one page (changes in between are coalesced)."""
CHECK_INTERVAL_S = 0.05
"""How often an event stream looks for a new state version."""
HEARTBEAT_S = 15.0
"""A comment line this often keeps idle connections (and proxies) open."""

WATCHER = web.AppKey('watcher', Watcher)


def make_app(watcher: Watcher) -> web.Application:
    """The application over a started (or startable) watcher."""
    app = web.Application()
    app[WATCHER] = watcher
    registry = registry_for(
        DashboardCollector(watcher.counters, watcher.settings.group, watcher.settings.orders_topic)
    )
    app.router.add_get('/', _index)
    app.router.add_get('/api/events', _events)
    app.router.add_get('/api/state', _state)
    app.router.add_get('/topics', _topics_page)
    app.router.add_get('/topics/{topic}', _topic_page)
    app.router.add_get('/api/topics', _topics_json)
    app.router.add_get('/api/topics/{topic}', _topic_json)
    app.router.add_get('/metrics', lambda request: _metrics(registry))
    app.router.add_static('/static/', STATIC, show_index=False)
    return app


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / 'index.html', headers={'Cache-Control': 'no-cache'})


async def _state(request: web.Request) -> web.Response:
    return web.json_response(request.app[WATCHER].snapshot())


async def _events(request: web.Request) -> web.StreamResponse:
    watcher = request.app[WATCHER]
    response = web.StreamResponse(
        headers={
            'Content-Type': 'text/event-stream',
            'Cache-Control': 'no-cache',
            'X-Accel-Buffering': 'no',
        }
    )
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    sent_version, sent_at, beat_at = None, 0.0, loop.time()
    try:
        while True:
            now = loop.time()
            if watcher.version != sent_version and now - sent_at >= PUSH_INTERVAL_S:
                snapshot = watcher.snapshot()
                sent_version, sent_at, beat_at = snapshot['version'], now, now
                await response.write(_event('state', snapshot))
            elif now - beat_at >= HEARTBEAT_S:
                beat_at = now
                await response.write(b': heartbeat\n\n')
            await asyncio.sleep(CHECK_INTERVAL_S)
    except (ConnectionResetError, asyncio.CancelledError):
        pass  # the page went away, or the server stops
    return response


def _event(name: str, data: Dict[str, Any]) -> bytes:
    text = json.dumps(data, separators=(',', ':'), default=str)
    return f'event: {name}\ndata: {text}\n\n'.encode()


async def _metrics(registry) -> web.Response:
    body = await asyncio.get_running_loop().run_in_executor(None, exposition, registry)
    return web.Response(
        body=body, headers={'Content-Type': 'text/plain; version=0.0.4; charset=utf-8'}
    )


def _limit(request: web.Request) -> int:
    default = request.app[WATCHER].settings.browse_limit
    try:
        limit = int(request.query.get('limit', default))
    except ValueError:
        raise web.HTTPBadRequest(text='limit must be a whole number, e.g. ?limit=20') from None
    if not 1 <= limit <= 1000:
        raise web.HTTPBadRequest(text='limit must be between 1 and 1000')
    return limit


async def _browse(request: web.Request, topic: Optional[str]):
    """(status, topics or records, error message) of one browse."""
    watcher = request.app[WATCHER]
    loop = asyncio.get_running_loop()
    try:
        if topic is None:
            return 200, await loop.run_in_executor(None, list_topics, watcher.access), None
        limit = _limit(request)
        records = await loop.run_in_executor(
            None, latest_records, watcher.access, topic, limit, watcher.settings.kind_of(topic)
        )
        return 200, records, None
    except TopicNotFound as error:
        return 404, None, f'{error}. The topic list at /topics shows the topics there are.'
    except BrokerUnreachable as error:
        return 503, None, str(error)


async def _topics_page(request: web.Request) -> web.Response:
    status, topics, error = await _browse(request, None)
    return web.Response(
        status=status,
        content_type='text/html',
        text=browser_pages.topics_page(topics, error, request.app[WATCHER].settings),
    )


async def _topic_page(request: web.Request) -> web.Response:
    topic = request.match_info['topic']
    status, records, error = await _browse(request, topic)
    return web.Response(
        status=status,
        content_type='text/html',
        text=browser_pages.records_page(topic, records, error),
    )


async def _topics_json(request: web.Request) -> web.Response:
    status, topics, error = await _browse(request, None)
    if error:
        return web.json_response({'error': error}, status=status)
    return web.json_response(
        {
            'topics': [
                {
                    'name': t.name,
                    'partitions': t.partitions,
                    'records': t.records,
                    'end_offsets': {str(p): o for p, o in t.end_offsets.items()},
                }
                for t in topics
            ]
        }
    )


async def _topic_json(request: web.Request) -> web.Response:
    topic = request.match_info['topic']
    status, records, error = await _browse(request, topic)
    if error:
        return web.json_response({'error': error}, status=status)
    return web.json_response(
        {
            'topic': topic,
            'records': [{**record._asdict(), 'time': record.time} for record in records],
        },
        dumps=_JSON_DUMPS,
    )


_JSON_DUMPS = functools.partial(json.dumps, default=str)  # e.g. bytes in a decoded record
