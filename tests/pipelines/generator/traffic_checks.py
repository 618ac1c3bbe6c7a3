"""Helpers of the generator tests: planned records decoded and validated like the pipeline does."""

import collections
from typing import Dict, List, Sequence

from connectors.order_codec import decode_order
from pipelines.generator.plan import PlannedRecord
from transforms.fraud_rules import CardEvent
from transforms.records import Order
from transforms.validation_rules import validate_order


def valid_orders(records: Sequence[PlannedRecord], now_ms: int) -> List[Order]:
    """The valid records as the pipeline's ``Order`` s (decoded, then validated), in plan order."""
    return [validate_order(decode_order(r.value), now_ms) for r in records if r.order_id]


def histories(orders: Sequence[Order]) -> Dict[str, List[CardEvent]]:
    """Each card's orders as the fraud rules see them."""
    by_card: Dict[str, List[CardEvent]] = collections.defaultdict(list)
    for order in orders:
        by_card[order.card_id].append(CardEvent.from_order(order))
    return by_card
