"""Cutting a dead letter to fit a topic: the raw bytes shortened, their size and hash kept.

A record of any size can be dead-lettered, but a Kafka topic takes records of about 1 MB by
default and base64 makes the payload a third bigger: a 900 KB malformed record became a
1.2 MB dead letter that Kafka refused at every retry, which failed the job. ``FitDeadLetter``
is the ``fit_fn`` that ``connectors.kafka_write.WriteToKafka`` calls for such a record: it keeps
every field but ``raw``, cuts ``raw`` to the first bytes of the payload that fit, and sets
``raw_truncated`` (``raw_size`` and ``raw_sha256`` already describe the whole payload; see
``schemas/dead_letter.v2.avsc``). The Avro archive is written from the uncut dead letter, so
the whole payload stays there.
"""

import base64
from typing import Callable

from transforms.dead_letters import b64, sha256_hex
from transforms.records import DeadLetter

MESSAGE_CUT_CHARS = 1000
"""A message longer than this is cut too, when cutting ``raw`` alone is not enough."""


class FitDeadLetter:
    """``(dead letter, max value bytes) -> dead letter`` whose encoded value fits, if any can.

    Cuts, in this order, until ``encode(dead_letter)`` is at most the given size: the raw
    bytes (to the longest prefix that fits), then the ``key`` field (the Kafka record keeps
    the original key), then the message (to ``MESSAGE_CUT_CHARS``). Returns the smallest
    dead letter it could make; the caller checks that it fits.

    Args:
        encode: the value encoder of the dead-letter topic (JSON or Avro), picklable.
    """

    def __init__(self, encode: Callable[[DeadLetter], bytes]) -> None:
        if not callable(encode):
            raise ValueError(f'encode must be a function of a dead letter, got {encode!r}')
        self._encode = encode

    def __call__(self, dead_letter: DeadLetter, max_bytes: int) -> DeadLetter:
        if len(self._encode(dead_letter)) <= max_bytes:
            return dead_letter
        raw = base64.b64decode(dead_letter.raw)
        described = dead_letter._replace(
            raw_size=len(raw) if dead_letter.raw_size is None else dead_letter.raw_size,
            raw_sha256=(
                sha256_hex(raw) if dead_letter.raw_sha256 is None else dead_letter.raw_sha256
            ),
            raw_truncated=True,
        )
        empty = described._replace(raw='')
        candidates = (
            empty,
            empty._replace(key=None),
            empty._replace(key=None, message=empty.message[:MESSAGE_CUT_CHARS]),
        )
        for candidate in candidates:
            if len(self._encode(candidate)) <= max_bytes:
                return self._longest_prefix(candidate, raw, max_bytes)
        return candidates[-1]

    def _longest_prefix(self, empty: DeadLetter, raw: bytes, max_bytes: int) -> DeadLetter:
        """``empty`` with the longest prefix of ``raw`` that keeps it within ``max_bytes``."""
        spare = max_bytes - len(self._encode(empty))
        # base64 turns 3 bytes into 4 characters, which JSON and Avro write as 4 bytes; Avro's
        # length prefix may grow by a few bytes, so check and step back until it fits.
        keep = min(len(raw), spare // 4 * 3)
        while keep > 0:
            fitted = empty._replace(raw=b64(raw[:keep]))
            if len(self._encode(fitted)) <= max_bytes:
                return fitted
            keep -= 3
        return empty
