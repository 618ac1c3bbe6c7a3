"""ShardCards: a bundle writes only what it changed; a shard is decoded again whenever its
head's version is not the one this instance left."""

import copy

from transforms.shard_cards import COMPACT_SLACK, ShardCards


class Cell:
    """A state cell that counts its reads."""

    def __init__(self):
        self.value = None
        self.reads = 0

    def read(self):
        self.reads += 1
        return self.value

    def write(self, value):
        self.value = value

    def clear(self):
        self.value = None


class Log:
    """A bag that counts its reads and appends."""

    def __init__(self):
        self.entries = []
        self.reads = 0
        self.appends = 0

    def read(self):
        self.reads += 1
        return list(self.entries)

    def add(self, entry):
        self.appends += 1
        self.entries.append(entry)

    def clear(self):
        self.entries = []


def bundle(shards, head, log, *changes):
    """One bundle on shard 0: reads it, puts each (card id, card) of `changes`."""
    shards.start_bundle()
    sweep_at_ms, cards = shards.read(0, head, log)
    for card_id, card in changes:
        shards.put(0, card_id, card, head, log)
    if changes and sweep_at_ms is None:
        shards.set_sweep(0, 1000, head)
    shards.finish_bundle()
    return dict(cards)


def test_a_shard_is_decoded_once_while_its_version_holds_and_only_changes_are_written():
    shards, head, log = ShardCards(), Cell(), Log()
    bundle(shards, head, log, ('a', (1,)))
    bundle(shards, head, log, ('b', (2,)))
    assert bundle(shards, head, log) == {'a': (1,), 'b': (2,)}
    assert log.reads == 0 and log.appends == 2
    assert head.value[1:] == (1000, 2)


def test_a_change_elsewhere_changes_the_version_and_the_log_is_read_again():
    mine, theirs, head, log = ShardCards(), ShardCards(), Cell(), Log()
    bundle(mine, head, log, ('a', (1,)))
    bundle(theirs, head, log, ('b', (2,)), ('a', (3,)))
    assert bundle(mine, head, log) == {'a': (3,), 'b': (2,)}
    assert log.reads == 2  # theirs (a shard it never saw), then mine again


def test_a_bundle_that_never_finished_leaves_nothing_to_reuse():
    shards, head, log = ShardCards(), Cell(), Log()
    bundle(shards, head, log, ('a', (1,)))
    committed = copy.deepcopy((head.value, log.entries))
    shards.start_bundle()
    shards.read(0, head, log)
    shards.put(0, 'b', (2,), head, log)
    # The runner failed the bundle: its writes never reached the state.
    head.value, log.entries = committed
    assert bundle(shards, head, log) == {'a': (1,)}


def test_the_log_is_rewritten_once_it_holds_over_twice_its_cards():
    shards, head, log = ShardCards(), Cell(), Log()
    for i in range(3 * COMPACT_SLACK):
        bundle(shards, head, log, ('a', (i,)), ('b', (i,)))
    assert len(log.entries) <= 2 * 2 + COMPACT_SLACK
    assert head.value[2] == len(log.entries)
    assert bundle(ShardCards(), head, log) == {
        'a': (3 * COMPACT_SLACK - 1,),
        'b': (3 * COMPACT_SLACK - 1,),
    }


def test_replace_keeps_only_the_given_cards_and_clear_empties_the_shard():
    shards, head, log = ShardCards(), Cell(), Log()
    bundle(shards, head, log, ('a', (1,)), ('b', (2,)))
    shards.start_bundle()
    shards.read(0, head, log)
    shards.replace(0, 2000, {'b': (2,)}, head, log)
    shards.finish_bundle()
    assert bundle(ShardCards(), head, log) == {'b': (2,)}
    shards.start_bundle()
    shards.read(0, head, log)
    shards.clear(0, head, log)
    shards.finish_bundle()
    assert bundle(shards, head, log) == {} and bundle(ShardCards(), head, log) == {}
