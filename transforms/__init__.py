"""The goldstream transforms: the reusable steps pipelines compose.

Each step is a ``beam.PTransform`` in its own module, with its rules as plain
functions next to it:

* ``decode.DecodeEvents`` and ``validate.ValidateOrders`` (rules in
  ``validation_rules``), composed by ``order_ingest.IngestOrders``;
* ``enrich.EnrichOrders`` (reference files in ``reference_data``);
* ``fraud.CheckFraud`` (rules in ``fraud_rules``);
* ``windowed_counts.CountPerWindow``.

The records they exchange, and the tags ``VALID`` and ``DEAD_LETTER`` of
tagged results, are in ``records``.
"""
