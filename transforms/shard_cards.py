"""The cards of each fraud shard in state: what a bundle changes is all it writes, and a DoFn
instance decodes a shard again only when another one changed it.

`CheckFraud` hashes cards into a few shards. Kept as one state cell per shard, every bundle
decoded and re-encoded the whole shard (Prism and Flink give the Python SDK no user-state
cache token), a cost that grew with the cards kept (a day's worth) until a job at 1,000
orders/s fell behind. So a shard is two cells:

- a log (bag) of ``(card_id, card)`` entries, to which each change is appended; the last entry
  of a card is its value. When the log holds more than twice as many entries as cards, it is
  rewritten with one entry per card (so each entry is rewritten about once);
- a head: ``(version, sweep_at_ms, entries)``, rewritten with a new version id by each bundle
  that changes the shard.

A DoFn instance keeps the decoded cards of the shards its bundles changed, with their version,
and uses them again only while the head's version is still theirs. Whatever happened in
between (another worker or DoFn instance took the shard, a bundle failed, the job restarted)
changes or loses the version, and the log is read again.
"""

import uuid
from typing import Dict, NamedTuple, Optional, Set, Tuple

Cards = Dict[str, tuple]

COMPACT_SLACK = 64
"""A log is rewritten once it holds more than twice its cards plus this many entries."""


class _Shard(NamedTuple):
    version: Optional[str]
    sweep_at_ms: Optional[int]
    cards: Cards
    entries: int  # in the log


class ShardCards:
    """Reads and changes shards through a stateful DoFn's head and log cells.

    Call `start_bundle` and `finish_bundle` from the DoFn's. Between them, `read` a shard,
    then change it only through `put`, `set_sweep`, `replace` or `clear`.
    """

    def __init__(self) -> None:
        self._committed: Dict[int, _Shard] = {}  # as this instance's bundles left them
        self._open: Dict[int, _Shard] = {}  # read in the current bundle
        self._changed: Set[int] = set()  # given a new version in the current bundle

    def start_bundle(self) -> None:
        self._open = {}
        self._changed = set()

    def finish_bundle(self) -> None:
        """The bundle's shards become reusable. Should the runner not commit the bundle after
        all, the state keeps its older version and the next read decodes the log again."""
        for shard, opened in self._open.items():
            if opened.version is not None:
                self._committed[shard] = opened
        self._open = {}
        self._changed = set()

    def read(self, shard: int, head_state, log_state) -> Tuple[Optional[int], Cards]:
        """The shard's sweep time (None when it has no cards) and its cards: read them, do
        not change them."""
        opened = self._open.get(shard)
        if opened is None:
            opened = self._opened(shard, head_state, log_state)
            self._open[shard] = opened
        return opened.sweep_at_ms, opened.cards

    def _opened(self, shard: int, head_state, log_state) -> _Shard:
        head = head_state.read()
        # Taken out while the bundle runs: a bundle that fails leaves nothing to reuse.
        kept = self._committed.pop(shard, None)
        if head is None:
            return _Shard(None, None, {}, 0)
        version, sweep_at_ms, entries = head
        if kept is not None and kept.version == version:
            return kept
        cards: Cards = {}
        for card_id, card in log_state.read():
            cards[card_id] = card
        return _Shard(version, sweep_at_ms, cards, entries)

    def put(self, shard: int, card_id: str, card: tuple, head_state, log_state) -> None:
        """Sets one card (a tuple, never changed in place)."""
        opened = self._open[shard]
        opened.cards[card_id] = card
        entries = opened.entries + 1
        if entries > 2 * len(opened.cards) + COMPACT_SLACK:
            self._rewrite_log(opened.cards, log_state)
            entries = len(opened.cards)
        else:
            log_state.add((card_id, card))
        self._store(shard, opened.sweep_at_ms, opened.cards, entries, head_state)

    def set_sweep(self, shard: int, sweep_at_ms: int, head_state) -> None:
        opened = self._open[shard]
        self._store(shard, sweep_at_ms, opened.cards, opened.entries, head_state)

    def replace(self, shard: int, sweep_at_ms: int, cards: Cards, head_state, log_state) -> None:
        """Keeps only `cards` (a dict the caller no longer changes)."""
        self._rewrite_log(cards, log_state)
        self._store(shard, sweep_at_ms, cards, len(cards), head_state)

    def clear(self, shard: int, head_state, log_state) -> None:
        head_state.clear()
        log_state.clear()
        self._changed.discard(shard)
        self._open[shard] = _Shard(None, None, {}, 0)

    def _store(
        self, shard: int, sweep_at_ms: Optional[int], cards: Cards, entries: int, head_state
    ) -> None:
        version = self._open[shard].version
        if shard not in self._changed or version is None:
            version = uuid.uuid4().hex
            self._changed.add(shard)
        self._open[shard] = _Shard(version, sweep_at_ms, cards, entries)
        head_state.write((version, sweep_at_ms, entries))

    @staticmethod
    def _rewrite_log(cards: Cards, log_state) -> None:
        log_state.clear()
        for entry in cards.items():
            log_state.add(entry)
