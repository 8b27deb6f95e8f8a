"""Who may read /metrics: one setting, MARKETRED_METRICS_TOKEN.

Set, both the API's and the worker's /metrics need `Authorization: Bearer <token>`
(Prometheus's `authorization` scrape setting). Unset, the worker's (on its health port,
never published) is open, and the API's is open in dev/test and absent (404) in
production: the API sits behind the public proxy.
"""

from __future__ import annotations

import hmac


def metrics_allowed(token: str | None, authorization: str | None) -> bool:
    if token is None:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def api_metrics_served(token: str | None, *, production: bool) -> bool:
    return token is not None or not production
