"""Runs the dashboard: the watcher thread and the web server, until SIGINT or SIGTERM.

Prints one line, `dashboard: http://host:port/`, once the page can be loaded (with the port
the system picked when `--port 0`), so scripts can wait for it.
"""

import asyncio
import logging
import signal
import sys
from typing import List, Optional

from aiohttp import web

from dashboard.server import make_app
from dashboard.settings import DashboardSettings, parse_settings
from dashboard.watcher import Watcher
from pipelines.command_line import run_command


async def serve(settings: DashboardSettings, stop: asyncio.Event) -> None:
    """Serves until `stop` is set; prints the page's address when it is up."""
    watcher = Watcher(settings).start()
    runner = web.AppRunner(make_app(watcher), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        try:
            await site.start()
        except OSError as error:
            message = (
                f'error: cannot serve on {settings.host}:{settings.port} '
                f'({error.strerror}); pick another --port (0 picks a free one)'
            )
            raise SystemExit(message) from error
        host, port = runner.addresses[0][:2]
        print(f'dashboard: http://{host}:{port}/', flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()
        await asyncio.get_running_loop().run_in_executor(None, watcher.stop)


def main(argv: Optional[List[str]] = None) -> int:
    """Serves until SIGINT or SIGTERM; a wrong option is one `error:` line and exit code 2
    (pipelines/command_line.py)."""
    return run_command(_serve_until_stopped, argv)


def _serve_until_stopped(argv: List[str]) -> int:
    settings = parse_settings(argv)
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format='%(asctime)s %(levelname)s %(name)s: %(message)s',
    )
    if logging.getLogger('kafka').level == logging.ERROR:  # not --verbose
        logging.getLogger('kafka').setLevel(logging.CRITICAL)  # the page says when it is down

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(settings, stop)

    asyncio.run(run())
    return 0
