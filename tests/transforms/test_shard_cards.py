"""ShardCards: a shard's cards are decoded again whenever the state's version is not theirs."""
from transforms.shard_cards import ShardCards


class Cell:
    """A state cell that counts its reads."""

    def __init__(self, value=None):
        self.value = value
        self.reads = 0

    def read(self):
        self.reads += 1
        return self.value

    def write(self, value):
        self.value = value

    def clear(self):
        self.value = None


def bundle(shards, cards, version, change=None):
    """One bundle on shard 0: reads, applies `change` (a card id and tuple), writes."""
    shards.start_bundle()
    sweep_at_ms, stored = shards.read(0, cards, version)
    if change is not None:
        stored[change[0]] = change[1]
        shards.write(0, sweep_at_ms or 1000, stored, cards, version)
    shards.finish_bundle()
    return dict(stored)


def test_a_shard_is_decoded_once_while_its_version_holds():
    shards, cards, version = ShardCards(), Cell(), Cell()
    bundle(shards, cards, version, ('a', (1,)))
    bundle(shards, cards, version, ('b', (2,)))
    assert bundle(shards, cards, version) == {'a': (1,), 'b': (2,)}
    assert cards.reads == 1  # only the first bundle, when there was no version yet
    assert cards.value == (1000, {'a': (1,), 'b': (2,)})


def test_a_write_elsewhere_changes_the_version_and_the_cards_are_read_again():
    mine, theirs, cards, version = ShardCards(), ShardCards(), Cell(), Cell()
    bundle(mine, cards, version, ('a', (1,)))
    bundle(theirs, cards, version, ('b', (2,)))
    assert bundle(mine, cards, version) == {'a': (1,), 'b': (2,)}


def test_a_bundle_that_never_finished_leaves_nothing_to_reuse():
    shards, cards, version = ShardCards(), Cell(), Cell()
    bundle(shards, cards, version, ('a', (1,)))
    committed = (cards.value, version.value)
    shards.start_bundle()
    _, stored = shards.read(0, cards, version)
    stored['b'] = (2,)
    shards.write(0, 1000, stored, cards, version)
    # The runner failed the bundle: its writes never reached the state.
    cards.value, version.value = committed
    assert bundle(shards, cards, version) == {'a': (1,)}


def test_the_decoded_cards_are_a_copy_of_the_cell():
    stored = {'a': (1,)}
    shards, cards, version = ShardCards(), Cell((1000, stored)), Cell('v1')
    bundle(shards, cards, version, ('b', (2,)))
    assert stored == {'a': (1,)}


def test_a_cleared_shard_reads_empty():
    shards, cards, version = ShardCards(), Cell(), Cell()
    bundle(shards, cards, version, ('a', (1,)))
    shards.start_bundle()
    shards.read(0, cards, version)
    shards.clear(0, cards, version)
    shards.finish_bundle()
    assert bundle(shards, cards, version) == {}
