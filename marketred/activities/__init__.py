"""Temporal activities: thin, idempotent adapters over services."""
