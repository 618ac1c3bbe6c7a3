"""report.html in headless Chromium: it loads with no console messages, every chart is drawn.

The pages are real daily reports: a generated day of traffic is archived the way the
streaming pipeline archives it and the report runs through `build` (as in
`test_daily_report`), for that day and for a day without files. Each test loads a page once
(`headless_chromium.load_page`) and keeps the screenshot in its temporary folder; the path is
printed and recorded as the `screenshot` property. The last tests prove that each check can
fail: a throwing script, a blank page and a broken chart are caught.
"""

import datetime
import json
import pathlib

import pytest

from pipelines.daily_report.html import chart_ids
from tests.pipelines.daily_report import headless_chromium
from tests.pipelines.daily_report.headless_chromium import find_charts, load_page, read_screenshot
from tests.pipelines.daily_report.report_setup import DAY, generated_day, run_report

EMPTY_DAY = datetime.date(2026, 11, 19)
BAR_RGB = (0x3B, 0x7D, 0xD8)
"""The fill of the chart bars (`.bar` in report_html's style sheet)."""


@pytest.fixture(scope='module')
def chromium() -> pathlib.Path:
    binary = headless_chromium.chromium_binary()
    if not (binary.is_file() and binary.stat().st_mode & 0o111):
        pytest.fail(
            f"no Chromium at {binary}: run ./run_local.sh setup (it installs Debian's "
            'chromium), or set GOLDSTREAM_CHROMIUM to a Chromium binary'
        )
    return binary


@pytest.fixture(scope='module')
def pages(tmp_path_factory):
    """report.html of the generated day and of the empty day, by day."""
    folder = tmp_path_factory.mktemp('report_browser')
    generated_day(folder)
    for day in (DAY, EMPTY_DAY):
        run_report(day.isoformat(), folder / 'archive', folder / 'reference', folder / 'reports')
    return {day: folder / 'reports' / day.isoformat() / 'report.html' for day in (DAY, EMPTY_DAY)}


def _chart_ids(page: pathlib.Path):
    return chart_ids(json.loads((page.parent / 'report.json').read_text(encoding='utf-8')))


def _show(record_property, screenshot: pathlib.Path) -> None:
    record_property('screenshot', str(screenshot))
    print(f'screenshot: {screenshot}')


def _assert_loaded_cleanly(run, day: datetime.date) -> None:
    assert f'<title>goldstream daily report {day.isoformat()}</title>' in run.dom
    assert f'<h1>Daily report {day.isoformat()}</h1>' in run.dom
    assert run.dom.rstrip().endswith('</html>')
    assert run.console == [], f'console messages: {run.console}'


def _assert_screenshot_is_a_page(screenshot: pathlib.Path) -> headless_chromium.Screenshot:
    assert screenshot.is_file() and screenshot.stat().st_size > 1000
    shot = read_screenshot(screenshot)
    assert (shot.width, shot.height) == headless_chromium.WINDOW
    # a page of text and charts on white: many shades (antialiasing), white far from all of it
    assert len(shot.colours) > 50 and shot.colours.most_common(1)[0][0] == (255, 255, 255)
    assert shot.background_share < 0.99
    return shot


def test_a_generated_day_loads_without_console_messages_and_draws_every_chart(
    chromium, pages, tmp_path, record_property
):
    run = load_page(chromium, pages[DAY], tmp_path)
    _show(record_property, run.screenshot)
    _assert_loaded_cleanly(run, DAY)

    ids = _chart_ids(pages[DAY])
    charts = find_charts(run.dom, ids)
    assert sorted(charts) == sorted(ids) and len(ids) > 4  # per currency, and the alerts
    for chart_id, chart in charts.items():
        assert chart.tag == 'svg', chart_id
        assert chart.width > 0 and chart.height > 0, (chart_id, chart)
        assert chart.marks >= 1, (chart_id, chart)
        assert 'no data' not in chart.text, chart_id
    assert (
        max(
            chart.marks
            for chart_id, chart in charts.items()
            if chart_id.startswith('revenue-per-hour-')
        )
        >= 4
    )  # the plan spans 4 hours

    shot = _assert_screenshot_is_a_page(run.screenshot)
    assert shot.colours[BAR_RGB] > 5000, 'the bars are not painted'


def test_an_empty_day_loads_says_so_and_draws_no_bars(chromium, pages, tmp_path, record_property):
    run = load_page(chromium, pages[EMPTY_DAY], tmp_path)
    _show(record_property, run.screenshot)
    _assert_loaded_cleanly(run, EMPTY_DAY)
    assert 'the day is empty' in run.dom

    ids = _chart_ids(pages[EMPTY_DAY])
    charts = find_charts(run.dom, ids)
    assert sorted(charts) == sorted(ids)
    for chart_id, chart in charts.items():
        assert chart.tag == 'svg' and chart.width > 0 and chart.height > 0, (chart_id, chart)
        assert chart.marks == 0 and chart.text == 'no data', (chart_id, chart)

    shot = _assert_screenshot_is_a_page(run.screenshot)
    assert shot.colours[BAR_RGB] == 0


def test_the_console_check_catches_a_script_error(chromium, tmp_path):
    page = tmp_path / 'broken.html'
    page.write_text(
        '<!DOCTYPE html><html><head><title>broken</title></head><body><p>text</p>'
        '<script>console.error("logged error")</script>'
        '<script>throw Error("deliberate")</script></body></html>\n'
    )
    run = load_page(chromium, page, tmp_path)
    assert run.console == [
        f'"logged error", source: {page.resolve().as_uri()} (1)',
        f'"Uncaught Error: deliberate", source: {page.resolve().as_uri()} (1)',
    ]


def test_the_screenshot_check_catches_a_blank_page(chromium, tmp_path):
    page = tmp_path / 'blank.html'
    page.write_text('<!DOCTYPE html><html><head><title>blank</title></head><body></body></html>\n')
    run = load_page(chromium, page, tmp_path)
    assert run.console == []
    shot = read_screenshot(run.screenshot)
    assert len(shot.colours) == 1 and shot.background_share == 1.0
    with pytest.raises(AssertionError):
        _assert_screenshot_is_a_page(run.screenshot)


def test_the_screenshot_check_refuses_a_file_that_is_not_a_png(tmp_path):
    fake = tmp_path / 'fake.png'
    fake.write_bytes(b'GIF89a' + bytes(100))
    with pytest.raises(AssertionError, match='not a PNG'):
        read_screenshot(fake)


def test_the_chart_check_catches_missing_empty_and_undrawn_charts():
    dom = (
        '<html><body><svg id="revenue-per-hour" width="760" height="240">'
        '<line x1="0" y1="0" x2="10" y2="0"></line><rect width="0.0" height="16"></rect>'
        '<text>00</text></svg>'
        '<svg id="top-products" width="0" height="40"><rect width="5" height="5"></rect></svg>'
        '<div id="revenue-per-category"><svg width="10" height="10"><circle r="3"></circle>'
        '</svg></div></body></html>'
    )
    charts = find_charts(
        dom, ['revenue-per-hour', 'top-products', 'revenue-per-category', 'alerts-per-rule']
    )
    assert 'alerts-per-rule' not in charts
    assert charts['revenue-per-hour'].marks == 0  # an axis line and a zero-width bar
    assert charts['revenue-per-hour'].text == '00'
    assert charts['top-products'].width == 0 and charts['top-products'].marks == 1
    assert charts['revenue-per-category'].tag == 'div'
    assert charts['revenue-per-category'].marks == 1
