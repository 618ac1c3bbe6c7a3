"""The cards of each fraud shard, decoded once per DoFn instance rather than once per bundle.

`CheckFraud` keeps a shard's cards in one state cell. Prism and Flink give the Python SDK no
user-state cache token, so without this the SDK fetched and decoded every touched shard's
whole cell in every bundle: the largest cost of the streaming job, and one that grew with
the cards kept (a day's worth), until the job fell behind.

A second, small cell holds a version id, rewritten with the cards. A DoFn instance keeps the
decoded cards of the shards it committed, with their version, and uses them again only while
the state's version is still theirs. Whatever else happened in between (another worker or
DoFn instance took the shard, a bundle failed, the job restarted from a checkpoint) changes
or loses the version, and the cell is decoded again.
"""
import uuid
from typing import Dict, NamedTuple, Optional, Set, Tuple

Cards = Dict[str, tuple]


class _Shard(NamedTuple):
    version: Optional[str]
    sweep_at_ms: Optional[int]
    cards: Cards


class ShardCards:
    """Reads and writes shards' `(sweep_at_ms, cards)` through a DoFn's two state cells.

    Call `start_bundle` and `finish_bundle` from the DoFn's; between them, `read` a shard
    before changing its cards in place and `write` (or `clear`) it after.
    """

    def __init__(self) -> None:
        self._committed: Dict[int, _Shard] = {}  # as of this instance's last bundle
        self._open: Dict[int, _Shard] = {}  # read in the current bundle
        self._written: Set[int] = set()  # given a new version in the current bundle

    def start_bundle(self) -> None:
        self._open = {}
        self._written = set()

    def finish_bundle(self) -> None:
        """The bundle's shards become reusable. Should the runner not commit the bundle after
        all, the state keeps its older version and the next read decodes it again."""
        for shard, opened in self._open.items():
            if opened.version is not None:
                self._committed[shard] = opened
        self._open = {}
        self._written = set()

    def read(self, shard: int, cards_state, version_state) -> Tuple[Optional[int], Cards]:
        """The shard's sweep time (None when it has no cards) and its cards, which the caller
        may change in place until it writes them."""
        opened = self._open.get(shard)
        if opened is not None:
            return opened.sweep_at_ms, opened.cards
        version = version_state.read()
        # Taken out while the bundle runs: a failed bundle leaves nothing to reuse.
        kept = self._committed.pop(shard, None)
        if kept is not None and version is not None and kept.version == version:
            # A shallow copy (cheap beside decoding): the dict last written may still be held
            # by the SDK's own cache (on runners that give cache tokens), and a bundle that
            # fails must not have changed it.
            opened = kept._replace(cards=dict(kept.cards))
        else:
            stored = cards_state.read()
            if stored is None:
                opened = _Shard(None, None, {})
            else:
                # A copy: the runner's or the SDK's own copy of the cell is never changed.
                opened = _Shard(version, stored[0], dict(stored[1]))
        self._open[shard] = opened
        return opened.sweep_at_ms, opened.cards

    def write(self, shard: int, sweep_at_ms: int, cards: Cards, cards_state,
              version_state) -> None:
        """Stores the shard's cards (once per bundle, at its end: the SDK keeps the writes)."""
        version = self._open[shard].version
        if shard not in self._written:
            version = uuid.uuid4().hex
            self._written.add(shard)
        self._open[shard] = _Shard(version, sweep_at_ms, cards)
        cards_state.write((sweep_at_ms, cards))
        version_state.write(version)

    def clear(self, shard: int, cards_state, version_state) -> None:
        cards_state.clear()
        version_state.clear()
        self._written.discard(shard)
        self._open[shard] = _Shard(None, None, {})
