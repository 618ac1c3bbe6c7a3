"""EnrichOrders: orders joined with customers and products read from reference files."""

import math
import time
from typing import Any, Callable, Dict, Iterable, Optional

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.transforms.periodicsequence import PeriodicImpulse
from apache_beam.transforms.window import FixedWindows, GlobalWindows

from transforms.records import EnrichedOrder, Order
from transforms.reference_data import ReferenceData, load_reference_data


class EnrichOrders(beam.PTransform):
    """Joins each order with its customer and product from reference files.

    Input: a PCollection of ``Order``, bounded or unbounded.

    Output: a PCollection of ``EnrichedOrder``, one per order, never
    dropped: an order whose customer or product id is not in the reference
    data is kept with ``customer``/``product`` None and ``customer_known``/
    ``product_known`` False, and counted (``Metrics.counter('EnrichOrders',
    'unknown_customer')`` and ``'unknown_product'``; ``'orders'`` counts all).
    Element timestamps are kept.

    Reference data (``transforms.reference_data``: ``customers.csv|jsonl``
    and ``products.csv|jsonl`` under ``reference_path``) is read:

    * once, when ``refresh_interval_s`` is None (the daily report, and the
      streaming pipeline by default): by each worker when it starts (in
      ``DoFn.setup``), without a side input; orders keep their windows.
    * every ``refresh_interval_s`` otherwise (streaming): the slowly-updating
      side input pattern. A ``PeriodicImpulse`` fires every interval, each
      firing re-reads the files, and the load is windowed into fixed windows
      of the interval; orders are windowed the same way for the join, so an
      order is enriched with the load of the interval its event time falls
      in, and are put back into the global window afterwards. The input
      must therefore be in the global window (as ``ValidateOrders`` leaves
      a source's orders). A runner waits until the side input of an
      interval is ready before joining orders of that interval, so
      enrichment lags by up to one interval. Orders whose event time falls
      in an interval without a load (before ``refresh_start_s``, e.g. a
      backlog read from the start of a topic, or after ``refresh_stop_s``)
      are enriched with a snapshot read when the pipeline is built (so a
      missing or malformed reference folder fails the launch, not the
      workers). Refreshing needs a runner with streaming side inputs: Prism,
      Flink or Dataflow (the legacy in-process runner of ``TestStream``
      cannot run ``PeriodicImpulse``).
    """

    def __init__(
        self,
        reference_path: str,
        refresh_interval_s: Optional[float] = None,
        refresh_start_s: Optional[float] = None,
        refresh_stop_s: Optional[float] = None,
        reader: Callable[[str], ReferenceData] = load_reference_data,
    ) -> None:
        """Configures the join.

        Args:
            reference_path: Folder of the reference files (any Beam filesystem).
            refresh_interval_s: Seconds between re-reads, or None to read once.
            refresh_start_s: Epoch seconds of the first re-read; by default the
                start of the current interval when the pipeline is built.
                Orders before it use the snapshot read at build time; set it
                earlier to give older orders (a backlog) the data of their own
                interval: the runner catches up with one read per past interval.
            refresh_stop_s: Epoch seconds after which no re-read happens;
                None (default) to refresh for as long as the pipeline runs.
            reader: Reads a reference folder into ``ReferenceData``;
                ``load_reference_data`` (the files described above) by default.
                Another function can load from elsewhere. Must be picklable.

        Raises:
            ValueError: If the path is empty, the interval is not a finite
                number greater than 0, the start or stop are given without an
                interval, or the stop is not after the start.
            ReferenceDataError: When the pipeline is built with an interval,
                if the reference files cannot be read (from ``expand``).
        """
        super().__init__()
        if not isinstance(reference_path, str) or not reference_path:
            raise ValueError(f'reference_path must be a non-empty path, got {reference_path!r}')
        if not callable(reader):
            raise ValueError(f'reader must be callable, got {reader!r}')
        if refresh_interval_s is None:
            if refresh_start_s is not None or refresh_stop_s is not None:
                raise ValueError('refresh_start_s and refresh_stop_s need refresh_interval_s')
        else:
            for name, value in (
                ('refresh_interval_s', refresh_interval_s),
                ('refresh_start_s', refresh_start_s),
                ('refresh_stop_s', refresh_stop_s),
            ):
                if value is not None and (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or not math.isfinite(value)
                ):
                    raise ValueError(f'{name} must be a finite number, got {value!r}')
            if refresh_interval_s <= 0:
                raise ValueError(
                    f'refresh_interval_s must be greater than 0, got {refresh_interval_s!r}'
                )
            if (
                refresh_start_s is not None
                and refresh_stop_s is not None
                and refresh_stop_s <= refresh_start_s
            ):
                raise ValueError(
                    f'refresh_stop_s ({refresh_stop_s}) must be after '
                    f'refresh_start_s ({refresh_start_s})'
                )
        self._path = reference_path
        self._interval = refresh_interval_s
        self._start = refresh_start_s
        self._stop = refresh_stop_s
        self._reader = reader

    def expand(self, orders: beam.PCollection[Order]) -> beam.PCollection[EnrichedOrder]:
        if self._interval is None:
            return orders | 'Join' >> beam.ParDo(
                _EnrichOnceFn(self._path, self._reader)
            ).with_output_types(EnrichedOrder)

        if not isinstance(orders.windowing.windowfn, GlobalWindows):
            raise ValueError(
                'EnrichOrders with refresh_interval_s needs its input in the global window '
                f'(got {orders.windowing.windowfn!r}); enrich before windowing'
            )
        start = self._start
        if start is None:
            start = math.floor(time.time() / self._interval) * self._interval
        impulse_args: Dict[str, Any] = dict(
            start_timestamp=start, fire_interval=self._interval, apply_windowing=True
        )
        if self._stop is not None:
            impulse_args['stop_timestamp'] = self._stop
        reference = (
            orders.pipeline
            | 'RefreshTicks' >> PeriodicImpulse(**impulse_args)
            | 'LoadReference' >> beam.Map(_load, self._path, self._reader)
        )
        snapshot = self._reader(self._path)  # for intervals without a load
        return (
            orders
            | 'IntoRefreshWindows' >> beam.WindowInto(FixedWindows(self._interval))
            | 'Join'
            >> beam.ParDo(
                _EnrichFn(), pvalue.AsSingleton(reference, default_value=snapshot)
            ).with_output_types(EnrichedOrder)
            | 'BackToGlobalWindow' >> beam.WindowInto(GlobalWindows())
        )


def _load(_tick, path: str, reader: Callable[[str], ReferenceData]) -> ReferenceData:
    Metrics.counter('EnrichOrders', 'reference_loads').inc()
    return reader(path)


class _EnrichFn(beam.DoFn):
    """Orders in, joined with the reference data of the side input."""

    def setup(self) -> None:
        self._orders = Metrics.counter('EnrichOrders', 'orders')
        self._unknown_customer = Metrics.counter('EnrichOrders', 'unknown_customer')
        self._unknown_product = Metrics.counter('EnrichOrders', 'unknown_product')

    def process(self, order: Order, reference: ReferenceData) -> Iterable[EnrichedOrder]:
        yield self._joined(order, reference)

    def _joined(self, order: Order, reference: ReferenceData) -> EnrichedOrder:
        self._orders.inc()
        customer = reference.customers.get(order.customer_id)
        product = reference.products.get(order.product_id)
        if customer is None:
            self._unknown_customer.inc()
        if product is None:
            self._unknown_product.inc()
        return EnrichedOrder(order, customer, product, customer is not None, product is not None)


class _EnrichOnceFn(_EnrichFn):
    """Orders in, joined with reference data each worker reads once, when it starts.

    Read once, the reference data needs no side input: the portable Flink runner cannot
    checkpoint an unbounded ParDo whose side input is pending (its pushed-back elements'
    state fails to copy: docs/runners.md), and Prism stalls on some streaming side inputs.
    """

    def __init__(self, path: str, reader: Callable[[str], ReferenceData]) -> None:
        self._path = path
        self._reader = reader
        self._reference: Optional[ReferenceData] = None

    def setup(self) -> None:
        super().setup()
        self._reference = self._reader(self._path)
        self._load_counted = False

    def start_bundle(self) -> None:
        if not self._load_counted:  # counters count in bundles, not in setup
            Metrics.counter('EnrichOrders', 'reference_loads').inc()
            self._load_counted = True

    # The reference data comes from setup here, not as a side input like the base's.
    def process(self, order: Order) -> Iterable[EnrichedOrder]:  # type: ignore[override]
        assert self._reference is not None  # loaded in setup
        yield self._joined(order, self._reference)
