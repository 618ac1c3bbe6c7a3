"""Headless Chromium for the report page tests, and what its output shows.

`load_page` opens one local page in Debian's `chromium` (which `./run_local.sh setup` installs;
`GOLDSTREAM_CHROMIUM` points at another binary) with a fresh profile and no network, and
returns the screenshot, the DOM after load and the console messages of the page.
`find_charts` and `read_screenshot` turn the DOM and the PNG into facts the tests assert on.
"""

import collections
import html.parser
import os
import pathlib
import re
import signal
import subprocess
import tempfile
from typing import Counter, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from PIL import Image  # a requirement of apache-beam, so always in the venv

DEFAULT_CHROMIUM = '/usr/bin/chromium'
FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking')
"""The flags the report page is checked with (issue #7)."""
NO_NETWORK_FLAGS = (
    '--disable-quic',
    '--no-first-run',
    '--disable-component-update',
    '--disable-sync',
)
WINDOW = (1280, 2400)
"""Width and height of the screenshot, pixels: the whole page of charts fits."""
RUN_DEADLINE_S = 90
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'

# Chromium logs every console message of a page (any level, uncaught exceptions too) as e.g.
# [123:123:1125/012502.212836:INFO:CONSOLE:7] "Uncaught Error: x", source: file:///p.html (7)
_CONSOLE_LINE = re.compile(r':CONSOLE(?::\d+|\(\d+\))?\] (?P<message>.*)$')


class PageRun(NamedTuple):
    """What one headless run of a page gave."""

    screenshot: pathlib.Path
    dom: str
    """The DOM after the load event, serialized (`--dump-dom`)."""
    console: List[str]
    """Every console message of the page, uncaught errors included, as Chromium logged it."""
    stderr: str


def chromium_binary() -> pathlib.Path:
    """The Chromium `./run_local.sh` installed or was pointed at."""
    return pathlib.Path(os.environ.get('GOLDSTREAM_CHROMIUM') or DEFAULT_CHROMIUM)


def load_page(
    chromium: pathlib.Path,
    page: pathlib.Path,
    out_dir: pathlib.Path,
    window: Tuple[int, int] = WINDOW,
) -> PageRun:
    """Loads `page` once: screenshot to `out_dir/<page stem>.png`, DOM and console captured.

    Raises AssertionError when Chromium fails or does not finish within `RUN_DEADLINE_S`
    (then its process group is killed).
    """
    profile = tempfile.mkdtemp(prefix='chromium-profile-', dir=out_dir)
    screenshot = out_dir / f'{page.stem}.png'
    command = [
        str(chromium),
        *FLAGS,
        *NO_NETWORK_FLAGS,
        f'--user-data-dir={profile}',
        '--enable-logging=stderr',
        '--v=0',
        '--hide-scrollbars',
        f'--window-size={window[0]},{window[1]}',
        f'--screenshot={screenshot}',
        '--dump-dom',
        page.resolve().as_uri(),
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        dom, stderr = process.communicate(timeout=RUN_DEADLINE_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the browser and its helpers, nothing else
        _, stderr = process.communicate()
        raise AssertionError(
            f'chromium did not finish {page} within {RUN_DEADLINE_S} s; '
            f'the end of its log:\n{stderr[-4000:]}'
        ) from None
    if process.returncode != 0:
        raise AssertionError(
            f'chromium exited with {process.returncode} on {page}; '
            f'the end of its log:\n{stderr[-4000:]}'
        )
    console = [
        match.group('message') for match in map(_CONSOLE_LINE.search, stderr.splitlines()) if match
    ]
    return PageRun(screenshot, dom, console, stderr)


class Chart(NamedTuple):
    """An element with a chart id, as the browser's DOM has it."""

    tag: str
    width: float
    height: float
    marks: int
    """Drawn marks inside: rect/circle/ellipse of positive size, path/polygon with points."""
    text: str


def _size(value: Optional[str]) -> float:
    try:
        return float(value) if value else 0.0
    except ValueError:
        return 0.0


def _is_mark(tag: str, attrs: Dict[str, Optional[str]]) -> bool:
    if tag == 'rect':
        return _size(attrs.get('width')) > 0 and _size(attrs.get('height')) > 0
    if tag == 'circle':
        return _size(attrs.get('r')) > 0
    if tag == 'ellipse':
        return _size(attrs.get('rx')) > 0 and _size(attrs.get('ry')) > 0
    if tag == 'path':
        return bool((attrs.get('d') or '').strip())
    if tag in ('polygon', 'polyline'):
        return bool((attrs.get('points') or '').strip())
    return False


class _ChartFinder(html.parser.HTMLParser):
    """Finds the elements of the given ids; counts the marks and gathers the text inside."""

    VOID = {
        'area',
        'base',
        'br',
        'col',
        'embed',
        'hr',
        'img',
        'input',
        'link',
        'meta',
        'source',
        'track',
        'wbr',
    }

    def __init__(self, ids: Iterable[str]):
        super().__init__()
        self.ids = set(ids)
        self.found: Dict[str, dict] = {}
        self.open: List[Tuple[str, Optional[str]]] = []  # (tag, chart id opened by it)

    def _inside(self) -> List[dict]:
        return [self.found[chart] for _, chart in self.open if chart is not None]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if _is_mark(tag, attrs):
            for chart in self._inside():
                chart['marks'] += 1
        chart_id = attrs.get('id') if attrs.get('id') in self.ids else None
        if chart_id is not None and chart_id not in self.found:
            self.found[chart_id] = {
                'tag': tag,
                'width': _size(attrs.get('width')),
                'height': _size(attrs.get('height')),
                'marks': 0,
                'text': [],
            }
        else:
            chart_id = None
        if tag not in self.VOID:
            self.open.append((tag, chart_id))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.open.pop()

    def handle_endtag(self, tag):
        for depth in range(len(self.open) - 1, -1, -1):  # the browser's DOM is well nested
            if self.open[depth][0] == tag:
                del self.open[depth:]
                return

    def handle_data(self, data):
        for chart in self._inside():
            chart['text'].append(data)


def find_charts(dom: str, ids: Sequence[str]) -> Dict[str, Chart]:
    """The elements of `dom` with one of `ids` (the first of each), by id."""
    finder = _ChartFinder(ids)
    finder.feed(dom)
    finder.close()
    return {
        chart_id: Chart(f['tag'], f['width'], f['height'], f['marks'], ''.join(f['text']))
        for chart_id, f in finder.found.items()
    }


class Screenshot(NamedTuple):
    """A PNG screenshot: its size and how many pixels have each RGB colour."""

    width: int
    height: int
    colours: Counter[Tuple[int, int, int]]

    @property
    def background_share(self) -> float:
        """The share of the pixels that have the most common colour."""
        return self.colours.most_common(1)[0][1] / (self.width * self.height)


def read_screenshot(path: pathlib.Path) -> Screenshot:
    """Decodes a PNG file; raises AssertionError if it is not one."""
    with path.open('rb') as file:
        signature = file.read(len(PNG_SIGNATURE))
    if signature != PNG_SIGNATURE:
        raise AssertionError(f'{path} is not a PNG (it starts with {signature!r})')
    with Image.open(path) as image:
        rgb = image.convert('RGB')
        width, height = rgb.size
        colours = rgb.getcolors(maxcolors=width * height)
    assert colours is not None  # maxcolors counts every pixel
    # RGB: every colour is an (r, g, b) tuple.
    counts = {colour: n for n, colour in colours}
    return Screenshot(width, height, collections.Counter(counts))  # type: ignore[arg-type]
