"""The typed records that goldstream transforms pass between them.

Every record is a ``typing.NamedTuple``. ``KafkaRecord`` and ``KafkaHeader``,
what the Kafka source emits, live in ``connectors.kafka_record`` and are
re-exported here. The records defined here, but for ``DecodedEvent`` (whose
dict of mixed types no schema can type; it uses Beam's fast fallback coder),
are registered with Beam as rows (a schema and a ``RowCoder``), so
PCollections of them are schema-aware and encode compactly between stages.
Field types are the ones Beam schemas map directly: ``str``, ``int``,
``float``, ``bool``, ``bytes``, ``Optional``, ``List``, ``Dict[str, str]``
and nested rows; ``typing.Optional`` is used on purpose instead of
``X | None``, which Beam 2.77 would encode as an opaque pickled value.

The records that leave the pipeline match the Avro schemas of ``schemas/``
field for field and in order (``Alert`` -> ``alert.v1.avsc``, ``MetricRow``
-> ``metric.v1.avsc``, ``DeadLetter`` -> ``dead_letter.v2.avsc``), so a sink
writes ``record._asdict()`` with ``connectors.avro_records``.

Tags of the tagged outputs (``result[VALID]``, ``result[DEAD_LETTER]``) are
the constants ``VALID`` and ``DEAD_LETTER``; dead-letter stages are
``STAGE_DECODE`` and ``STAGE_VALIDATE``.
"""

from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from apache_beam import coders

from connectors.kafka_record import KafkaHeader, KafkaRecord  # noqa: F401  (re-exported)

VALID = 'valid'
"""Tag of the records a stage accepted (the main output)."""
DEAD_LETTER = 'dead_letter'
"""Tag of the ``DeadLetter`` records a stage rejected."""

STAGE_DECODE = 'decode'
"""``DeadLetter.stage`` of records ``DecodeEvents`` could not decode."""
STAGE_VALIDATE = 'validate'
"""``DeadLetter.stage`` of orders ``ValidateOrders`` rejected."""


class RecordOrigin(NamedTuple):
    """Where a decoded record came from, kept so a later stage can dead-letter it.

    Attributes:
        raw: The record value, byte for byte (empty for a null value).
        key: The record key, or None (always None for plain-bytes input).
        topic: The Kafka topic, or None when the input was plain bytes.
        partition: The Kafka partition, or None when the input was plain bytes.
        offset: The Kafka offset, or None when the input was plain bytes.
    """

    raw: bytes
    key: Optional[bytes]
    topic: Optional[str]
    partition: Optional[int]
    offset: Optional[int]


class DecodedEvent(NamedTuple):
    """An order event that ``DecodeEvents`` decoded but nobody has validated yet.

    Attributes:
        fields: The version 2 order dict of ``connectors.order_codec``: every
            field present with the right type (``timestamp`` a str or an int),
            values unchecked. Not part of the Beam schema (a dict of mixed
            types); the record is encoded with Beam's fallback coder.
        origin: Where the record came from.
    """

    fields: Dict[str, Any]
    origin: RecordOrigin


class Order(NamedTuple):
    """A valid order: the version 2 order fields, checked, plus the parsed event time.

    Attributes:
        order_id: Unique id of the order; non-blank, at most 64 characters.
        customer_id: Id of the customer; non-blank.
        product_id: Id of the product; non-blank.
        quantity: Units ordered, at least 1.
        price: Unit price, finite and greater than 0.
        currency: ISO 4217 alphabetic code, upper case.
        card_id: Id of the payment card; non-blank. The key of the fraud rules.
        lat: Latitude of the card's location, -90 to 90.
        lon: Longitude of the card's location, -180 to 180.
        timestamp: The ``timestamp`` field as the producer wrote it, as text:
            an ISO 8601 string unchanged, or epoch milliseconds as decimal
            digits (a Beam schema has no str-or-int union).
        tax: Tax for the whole order, finite and at least 0 (0.0 for v1).
        version: The order schema version the producer wrote, 1 or 2.
        event_time_ms: ``timestamp`` parsed, epoch milliseconds: the event time
            of the pipelines and the element timestamp ValidateOrders sets.
        source_topic, source_partition, source_offset: Where the order was read
            (``ValidateOrders`` copies them from the record's origin); None for an
            order not read from Kafka. Not part of the order schema: they let the
            streaming pipeline commit an offset once the order's outputs are durable.
    """

    order_id: str
    customer_id: str
    product_id: str
    quantity: int
    price: float
    currency: str
    card_id: str
    lat: float
    lon: float
    timestamp: str
    tax: float
    version: int
    event_time_ms: int
    source_topic: Optional[str] = None
    source_partition: Optional[int] = None
    source_offset: Optional[int] = None

    @property
    def source(self) -> Tuple[Optional[str], Optional[int], Optional[int]]:
        """(topic, partition, offset) the order was read from."""
        return self.source_topic, self.source_partition, self.source_offset

    @property
    def amount(self) -> float:
        """The order's amount: price x quantity + tax (docs/fraud.md)."""
        return self.price * self.quantity + self.tax


class DeadLetter(NamedTuple):
    """A record a stage could not process, kept with its origin (``dead_letter.v2.avsc``).

    Attributes:
        stage: The stage that rejected it: ``STAGE_DECODE`` or ``STAGE_VALIDATE``.
        reason: A stable reason code: a ``connectors.codec_errors.DecodeReason``
            at stage ``decode``, a ``transforms.validation_rules.ValidationReason``
            at stage ``validate``.
        message: A sentence for people: what was wrong, what was expected.
        raw: The original record value, base64 (standard alphabet, padded),
            as it is published on the ``orders.dlq`` topic.
        topic: The Kafka topic, or None when the input was not a Kafka record.
        partition: The Kafka partition, or None.
        offset: The Kafka offset, or None.
        failed_at: Wall-clock time of the rejection, epoch milliseconds.
        key: The original record key, base64, or None when it had none.
        raw_size: Size of the whole record value in bytes; None when unknown.
        raw_sha256: SHA-256 of the whole record value, hex; None when unknown.
        raw_truncated: True when ``raw`` holds only the value's first bytes
            (cut to fit a topic's maximum record size; see
            ``transforms.dead_letter_fit``).
    """

    stage: str
    reason: str
    message: str
    raw: str
    topic: Optional[str]
    partition: Optional[int]
    offset: Optional[int]
    failed_at: int
    key: Optional[str]
    raw_size: Optional[int] = None
    raw_sha256: Optional[str] = None
    raw_truncated: bool = False


class Customer(NamedTuple):
    """A row of the customers reference data.

    Attributes:
        customer_id: The id orders refer to.
        name: Display name.
        segment: Marketing segment, e.g. ``retail`` or ``business``.
        home_country: Country code, as given in the file.
        signup_date: Date of sign-up, as given in the file (ISO 8601 date).
    """

    customer_id: str
    name: str
    segment: str
    home_country: str
    signup_date: str


class Product(NamedTuple):
    """A row of the products reference data.

    Attributes:
        product_id: The id orders refer to.
        name: Display name.
        category: Product category, e.g. ``books``.
        list_price: Catalogue price per unit.
        stock: Units in stock when the file was written.
    """

    product_id: str
    name: str
    category: str
    list_price: float
    stock: int


class EnrichedOrder(NamedTuple):
    """An order joined with its customer and product (``EnrichOrders`` output).

    Attributes:
        order: The order, unchanged.
        customer: The order's customer, or None when the id is unknown.
        product: The order's product, or None when the id is unknown.
        customer_known: False when the customer id is not in the reference data.
        product_known: False when the product id is not in the reference data.
    """

    order: Order
    customer: Optional[Customer]
    product: Optional[Product]
    customer_known: bool
    product_known: bool


class Alert(NamedTuple):
    """A fraud alert raised by ``CheckFraud`` (``alert.v1.avsc``).

    Attributes:
        alert_id: Deterministic id: ``fraud_rules.alert_id(rule, order_ids)``.
        rule: ``SMALL_THEN_LARGE``, ``IMPOSSIBLE_TRAVEL`` or ``VELOCITY``.
        card_id: The card the alert is about.
        order_ids: The triggering orders, in event-time order.
        event_time: Event time of the last triggering order, epoch ms.
        detected_at: Wall-clock time the alert was raised, epoch ms; the one
            field that differs between a replay and the original.
        details: Rule-specific facts as text (amounts, distance, speed, count).
    """

    alert_id: str
    rule: str
    card_id: str
    order_ids: List[str]
    event_time: int
    detected_at: int
    details: Dict[str, str]


class WindowCount(NamedTuple):
    """Totals of one key in one window, as one pane (``CountPerWindow`` output).

    Attributes:
        window_start: Window start, inclusive, epoch ms.
        window_end: Window end, exclusive, epoch ms.
        key: The key the key function gave.
        orders: Elements counted so far (this pane alone when discarding).
        units: Sum of the first value the value function gave.
        revenue: Sum of the second value the value function gave (exactly
            rounded: independent of the order elements were added in).
        pane: ``EARLY``, ``ON_TIME`` or ``LATE``, from the pane's timing.
        pane_index: Index of the pane within the window, 0 for the first.
    """

    window_start: int
    window_end: int
    key: str
    orders: int
    units: int
    revenue: float
    pane: str
    pane_index: int


class MetricRow(NamedTuple):
    """Sales of one product in one window, as published (``metric.v1.avsc``).

    ``WindowCount`` keyed by product id, under the schema's field names.

    Attributes:
        window_start: Window start, inclusive, epoch ms.
        window_end: Window end, exclusive, epoch ms.
        product_id: The product; the Kafka key of the metric.
        orders: Orders of the product in the window so far.
        units: Units ordered so far.
        revenue: Sum of the orders' amounts so far.
        pane: ``EARLY``, ``ON_TIME`` or ``LATE``.
        pane_index: Index of the pane within the window; with the window and
            the product it identifies the pane, for de-duplication.
    """

    window_start: int
    window_end: int
    product_id: str
    orders: int
    units: int
    revenue: float
    pane: str
    pane_index: int

    @classmethod
    def from_window_count(cls, count: WindowCount) -> 'MetricRow':
        """The metric of a ``WindowCount`` whose key is a product id."""
        return cls(
            count.window_start,
            count.window_end,
            count.key,
            count.orders,
            count.units,
            count.revenue,
            count.pane,
            count.pane_index,
        )


for _row_type in (
    RecordOrigin,
    Order,
    DeadLetter,
    Customer,
    Product,
    EnrichedOrder,
    Alert,
    WindowCount,
    MetricRow,
):
    coders.registry.register_row(_row_type)
del _row_type
