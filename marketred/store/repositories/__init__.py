"""Repositories: all SQL lives here, one module per area."""
