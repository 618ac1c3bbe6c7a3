"""Tests of the connectors package."""
