"""Kafka connectors, event codecs and the schema catalogue of goldstream."""
