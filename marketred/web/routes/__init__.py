"""Web pages, one small router module per area."""
