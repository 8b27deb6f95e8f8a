"""Request plumbing both `api` and `web` use: the per-process resources, request
dependencies (session, settings, Temporal, the caller), error and outage handlers, the
browser principal and after-commit signals. It imports services, never `api` or `web`."""
