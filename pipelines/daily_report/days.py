"""UTC days for the daily report: their bounds, the day before, and a range of days."""

import datetime
from typing import List, Tuple

HOUR_S = 3600
DAY_S = 24 * HOUR_S
DAY_MS = DAY_S * 1000


def day_bounds_ms(day: datetime.date) -> Tuple[int, int]:
    """[start, end) of a UTC day, epoch milliseconds."""
    start = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc)
    start_ms = int(start.timestamp()) * 1000
    return start_ms, start_ms + DAY_MS


def days_between(first: datetime.date, last: datetime.date) -> List[datetime.date]:
    """Every day from `first` to `last`, both included, in order.

    Raises:
        ValueError: If `last` is before `first`.
    """
    if last < first:
        raise ValueError(
            f'the range ends ({last.isoformat()}) before it starts '
            f'({first.isoformat()}): give --from on or before --to'
        )
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]
