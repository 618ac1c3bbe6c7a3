"""The Prism that set-up builds keeps every state update when it splits a stateful bundle.

Stock Prism 2.77 loses them (infra/prism/0002-split-bundle-keeps-key-state.patch): a bundle
stalled on a slow element is split, the keys left wholly in the residual are processed by a
second bundle, and the first bundle, when it ends, writes back the copy of their state it
took at its start. A per-key counter then counts some elements twice. This pipeline makes
such splits happen: every tick 400 elements over 16 keys reach a stateful counter, and on
some ticks one element takes 2 s. On Prism with only the patch's first fix, 6 of 6 runs
lost updates (e.g. 275 distinct counts for the 400 elements of a key); patched, 0 of 4.
"""

import json
import pathlib
import time
from typing import Dict, List

import apache_beam as beam
from apache_beam.coders import VarIntCoder
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.transforms.periodicsequence import PeriodicImpulse
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

from pipelines.local import cache

KEYS = 16
PER_TICK = 400
TICK_S = 0.5
TICKS = 16
SLOW_TICKS = (2, 4, 6, 8)
SLOW_ELEMENT = 137  # of each slow tick: wherever its key falls in the bundle
SLOW_S = 2.0  # long enough for splits even after Prism backs its progress checks off


def tick_elements(tick: int):
    for j in range(PER_TICK):
        yield j % KEYS, (tick * PER_TICK + j, tick in SLOW_TICKS and j == SLOW_ELEMENT)


class CountPerKey(beam.DoFn):
    """Counts each key's elements in state; writes `[key, element, count]` lines to a file."""

    COUNT = ReadModifyWriteStateSpec('count', VarIntCoder())

    def __init__(self, path: str) -> None:
        self._path = path

    def process(self, element, count=beam.DoFn.StateParam(COUNT)) -> None:
        key, (number, slow) = element
        counted = (count.read() or 0) + 1
        count.write(counted)
        if slow:
            time.sleep(SLOW_S)  # stalls the bundle: Prism splits it
        with open(self._path, 'a', encoding='utf-8') as out:
            out.write(json.dumps([key, number, counted]) + '\n')


def counts_per_key(path: pathlib.Path) -> Dict[int, List[int]]:
    counts: Dict[int, List[int]] = {}
    for line in path.read_text(encoding='utf-8').splitlines():
        key, _, counted = json.loads(line)
        counts.setdefault(key, []).append(counted)
    return counts


def test_a_split_stateful_bundle_loses_no_state_update(tmp_path):
    prism = cache.prism_binary()
    assert prism.is_file(), f'no Prism at {prism}: run ./run_local.sh setup'
    path = tmp_path / 'counts.jsonl'
    start = time.time() + 2
    options = PipelineOptions(['--runner=PrismRunner', f'--prism_location={prism}', '--streaming'])
    with beam.Pipeline(options=options) as pipeline:
        _ = (
            pipeline
            | PeriodicImpulse(
                start_timestamp=start, stop_timestamp=start + TICKS * TICK_S, fire_interval=TICK_S
            )
            | beam.Map(lambda at: int(round((float(at) - start) / TICK_S)))
            | beam.FlatMap(tick_elements)
            | beam.ParDo(CountPerKey(str(path)))
        )

    counts = counts_per_key(path)
    assert sum(map(len, counts.values())) == TICKS * PER_TICK
    # Each element counted once: a key's counts are 1..n, none twice, none skipped.
    lost = {
        key: f'{len(set(seen))} distinct counts for {len(seen)} elements'
        for key, seen in counts.items()
        if sorted(seen) != list(range(1, len(seen) + 1))
    }
    assert not lost, f'state updates lost: {lost}'
