"""Operations: idempotency keys, gauges and /metrics access, the demo data."""
