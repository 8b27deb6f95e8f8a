"""FastAPI application: REST API under /api/v1, webhooks, health and metrics."""
