"""One record of each kind the dashboard reads, as the pipeline and the generator write them."""

import base64

from transforms.records import Alert, DeadLetter, MetricRow

SAMPLE_ORDER = {
    'order_id': 'o-1',
    'customer_id': 'c-1',
    'product_id': 'p-1',
    'quantity': 2,
    'price': 12.5,
    'currency': 'EUR',
    'card_id': 'card-1',
    'lat': 48.85,
    'lon': 2.35,
    'timestamp': '2026-11-30T10:00:00Z',
    'tax': 1.0,
    'version': 2,
}
SAMPLE_ALERT = Alert(
    'alert-1',
    'VELOCITY',
    'card-1',
    ['o-1', 'o-2'],
    1_796_000_000_000,
    1_796_000_000_500,
    {'count': '20'},
)
SAMPLE_METRIC = MetricRow(1_796_000_100_000, 1_796_000_400_000, 'p-1', 3, 4, 51.25, 'EARLY', 0)
SAMPLE_DEAD_LETTER = DeadLetter(
    'decode',
    'INVALID_JSON',
    'not JSON',
    base64.b64encode(b'{x').decode(),
    'orders',
    0,
    7,
    1_796_000_000_000,
    None,
)
