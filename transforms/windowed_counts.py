"""CountPerWindow: orders, units and revenue per key and event-time window, pane by pane."""

import math
from typing import Any, Callable, Iterable, List, Optional, Tuple

import apache_beam as beam
from apache_beam.transforms import trigger as triggers
from apache_beam.transforms import window as windows
from apache_beam.utils.timestamp import Duration
from apache_beam.utils.windowed_value import PaneInfoTiming

from transforms.records import EnrichedOrder, Order, WindowCount

FIXED, SLIDING, SESSIONS = 'fixed', 'sliding', 'sessions'
WINDOW_KINDS = (FIXED, SLIDING, SESSIONS)
ACCUMULATING, DISCARDING = 'accumulating', 'discarding'
DEFAULT_SIZE_S = 300.0
"""Window size when none is given: the streaming pipeline's 5 minutes."""

EARLY, ON_TIME, LATE = 'EARLY', 'ON_TIME', 'LATE'
_PANE_NAMES = {
    PaneInfoTiming.EARLY: EARLY,
    PaneInfoTiming.ON_TIME: ON_TIME,
    PaneInfoTiming.LATE: LATE,
    # A runner that fires each window once, with no trigger to speak of (a
    # batch run), may leave the timing unknown: that one pane is on time.
    PaneInfoTiming.UNKNOWN: ON_TIME,
}


def product_id_of(element: Any) -> str:
    """The default key: the product id of an ``Order`` or ``EnrichedOrder``."""
    return _order_of(element).product_id


def units_and_revenue(element: Any) -> Tuple[int, float]:
    """The default value: (quantity, amount) of an ``Order`` or ``EnrichedOrder``."""
    order = _order_of(element)
    return order.quantity, order.amount


class CountPerWindow(beam.PTransform):
    """Counts elements and sums two values per key and window, one row per pane.

    Input: a PCollection of anything the key and value functions accept
    (``Order`` or ``EnrichedOrder`` for the defaults), each at its event time,
    bounded or unbounded. The input's windowing is replaced.

    Windows: ``fixed`` (``size_s``), ``sliding`` (``size_s`` every
    ``period_s``; an element counts in every window it falls in) or
    ``sessions`` (per key, closed by a ``gap_s`` without elements).

    Triggers: a window fires ON_TIME when the watermark passes its end;
    with ``early_firing_s``, also EARLY panes every ``early_firing_s`` of
    processing time while elements arrive before that; with
    ``allowed_lateness_s``, one LATE pane per late element (behind the
    watermark but within the lateness). Elements later than that are dropped
    by the runner (Beam counts them as dropped due to lateness). In
    ``accumulating`` mode (the default) each pane holds the window's totals so
    far, so a consumer keeps the latest pane per (window, key) (the highest
    ``pane_index``); in ``discarding`` mode each pane holds only what arrived
    since the previous one, and a consumer adds panes up.

    Output: a PCollection of ``WindowCount`` (``window_start``,
    ``window_end``, ``key``, ``orders``, ``units``, ``revenue``, ``pane``,
    ``pane_index``), one per key, window and pane, in that window. Revenue is
    summed exactly (the correctly rounded sum, whatever order elements come
    in), so every runner and retry gives the same numbers. ``pane`` is
    ``EARLY``, ``ON_TIME`` or ``LATE``, from the pane info; a runner that
    reports an unknown timing (a single pane in batch) gives ``ON_TIME``.
    For the ``order.metrics`` topic map rows with ``MetricRow.from_window_count``.
    """

    def __init__(
        self,
        key_fn: Callable[[Any], str] = product_id_of,
        value_fn: Callable[[Any], Tuple[int, float]] = units_and_revenue,
        *,
        window: str = FIXED,
        size_s: Optional[float] = None,
        period_s: Optional[float] = None,
        gap_s: Optional[float] = None,
        allowed_lateness_s: float = 0.0,
        early_firing_s: Optional[float] = None,
        accumulation: str = ACCUMULATING,
    ) -> None:
        """Configures the windows and triggers.

        Args:
            key_fn: Gives an element's key, a str (product id by default).
                Must be picklable.
            value_fn: Gives an element's (units, revenue): an int and a
                float ((quantity, amount) by default). Must be picklable.
            window: ``fixed``, ``sliding`` or ``sessions``.
            size_s: Window size in seconds, for fixed and sliding windows
                (``DEFAULT_SIZE_S`` when None); not for sessions.
            period_s: Seconds between sliding window starts, more than 0 and
                at most ``size_s``; only for sliding windows.
            gap_s: Session gap in seconds; required for sessions, only for them.
            allowed_lateness_s: Seconds after the end of a window during
                which late elements still update it (LATE panes); 0 or more.
            early_firing_s: Processing-time seconds between EARLY panes, or
                None for no early panes.
            accumulation: ``accumulating`` or ``discarding`` panes.

        Raises:
            ValueError: If an argument is missing, of the wrong kind, out of
                range, or given for a window kind that has no use for it.
        """
        super().__init__()
        if not callable(key_fn):
            raise ValueError(f'key_fn must be callable, got {key_fn!r}')
        if not callable(value_fn):
            raise ValueError(f'value_fn must be callable, got {value_fn!r}')
        if window not in WINDOW_KINDS:
            raise ValueError(
                f'unknown window kind {window!r}; expected one of {", ".join(WINDOW_KINDS)}'
            )
        self._window_fn: windows.WindowFn
        if window == SESSIONS:
            _forbid('size_s', size_s, window)
            _forbid('period_s', period_s, window)
            self._window_fn = windows.Sessions(_positive('gap_s', gap_s))
        else:
            _forbid('gap_s', gap_s, window)
            size = DEFAULT_SIZE_S if size_s is None else _positive('size_s', size_s)
            if window == FIXED:
                _forbid('period_s', period_s, window)
                self._window_fn = windows.FixedWindows(size)
            else:
                period = _positive('period_s', period_s)
                if period > size:
                    raise ValueError(f'period_s ({period}) must be at most size_s ({size})')
                self._window_fn = windows.SlidingWindows(size, period)
        lateness = _number('allowed_lateness_s', allowed_lateness_s, minimum=0.0)
        early = None
        if early_firing_s is not None:
            # Beam's processing-time trigger counts whole seconds: round up.
            early = triggers.AfterProcessingTime(
                math.ceil(_positive('early_firing_s', early_firing_s))
            )
        if accumulation not in (ACCUMULATING, DISCARDING):
            raise ValueError(
                f'accumulation must be {ACCUMULATING!r} or {DISCARDING!r}, got {accumulation!r}'
            )
        self._key_fn = key_fn
        self._value_fn = value_fn
        # Without early firings, Beam's default trigger is this very trigger (a pane when
        # the watermark passes the end, then one per late element) and lets runners use
        # their fast batch grouping.
        self._trigger = (
            triggers.DefaultTrigger()
            if early is None
            else triggers.AfterWatermark(early=early, late=triggers.AfterCount(1))
        )
        self._accumulation = (
            triggers.AccumulationMode.ACCUMULATING
            if accumulation == ACCUMULATING
            else triggers.AccumulationMode.DISCARDING
        )
        self._lateness = Duration.of(lateness)

    def expand(self, elements: beam.PCollection[Any]) -> beam.PCollection[WindowCount]:
        return (
            elements
            | 'KeyAndValue'
            >> beam.ParDo(_KeyAndValueFn(self._key_fn, self._value_fn)).with_output_types(
                Tuple[str, Tuple[int, float]]
            )
            | 'Window'
            >> beam.WindowInto(
                self._window_fn,
                trigger=self._trigger,
                accumulation_mode=self._accumulation,
                allowed_lateness=self._lateness,
            )
            | 'SumPerKey' >> beam.CombinePerKey(_TotalsFn())
            | 'ToRows' >> beam.ParDo(_ToWindowCountFn()).with_output_types(WindowCount)
        )


class _KeyAndValueFn(beam.DoFn):
    def __init__(
        self, key_fn: Callable[[Any], str], value_fn: Callable[[Any], Tuple[int, float]]
    ) -> None:
        self._key_fn = key_fn
        self._value_fn = value_fn

    def process(self, element: Any) -> Iterable[Tuple[str, Tuple[int, float]]]:
        key = self._key_fn(element)
        if not isinstance(key, str):
            raise TypeError(f'key_fn must return a str, got {type(key).__name__} {key!r}')
        units, revenue = self._value_fn(element)
        yield key, (int(units), float(revenue))


class _TotalsFn(beam.CombineFn):
    """(count, units, revenue) with revenue summed exactly.

    The accumulator is [count, units, partials, special]: ``partials`` are
    non-overlapping floats whose exact sum is the exact sum of the finite
    revenues (Shewchuk's algorithm, as behind ``math.fsum``), so merging in
    any order gives the same result; ``special`` sums any infinities or NaNs.
    """

    def create_accumulator(self) -> List:
        return [0, 0, [], 0.0]

    def add_input(self, accumulator: List, value: Tuple[int, float]) -> List:
        units, revenue = value
        accumulator[0] += 1
        accumulator[1] += units
        if math.isfinite(revenue):
            _add_exact(accumulator[2], revenue)
        else:
            accumulator[3] += revenue
        return accumulator

    def merge_accumulators(self, accumulators: Iterable[List]) -> List:
        merged = self.create_accumulator()
        for count, units, partials, special in accumulators:
            merged[0] += count
            merged[1] += units
            for partial in partials:
                _add_exact(merged[2], partial)
            merged[3] += special
        return merged

    def extract_output(self, accumulator: List) -> Tuple[int, int, float]:
        count, units, partials, special = accumulator
        return count, units, math.fsum(partials) + special


def _add_exact(partials: List[float], x: float) -> None:
    """Adds ``x`` to the non-overlapping ``partials`` in place, without rounding error."""
    kept = 0
    for y in partials:
        if abs(x) < abs(y):
            x, y = y, x
        high = x + y
        low = y - (high - x)
        if low:
            partials[kept] = low
            kept += 1
        x = high
    partials[kept:] = [x]


class _ToWindowCountFn(beam.DoFn):
    def process(
        self,
        element: Tuple[str, Tuple[int, int, float]],
        window=beam.DoFn.WindowParam,
        pane_info=beam.DoFn.PaneInfoParam,
    ) -> Iterable[WindowCount]:
        key, (count, units, revenue) = element
        yield WindowCount(
            window.start.micros // 1000,
            window.end.micros // 1000,
            key,
            count,
            units,
            revenue,
            _PANE_NAMES[pane_info.timing],
            pane_info.index,
        )


def _order_of(element: Any) -> Order:
    return element.order if isinstance(element, EnrichedOrder) else element


def _number(name: str, value: Any, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f'{name} must be a finite number, got {value!r}')
    if value < minimum:
        raise ValueError(f'{name} must be at least {minimum:g}, got {value!r}')
    return value


def _positive(name: str, value: Any) -> float:
    if value is None:
        raise ValueError(f'{name} is required')
    _number(name, value, minimum=0.0)
    if value == 0:
        raise ValueError(f'{name} must be greater than 0, got {value!r}')
    return value


def _forbid(name: str, value: Any, window: str) -> None:
    if value is not None:
        raise ValueError(f'{name} does not apply to {window} windows; leave it out')
