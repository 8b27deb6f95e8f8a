"""What a handler may say to the owner of its request's transaction (store/session.py):
run this once the work is committed (`after_commit`: a mail, a signal), or commit even
though the request is then refused (`keep_when_refused`: a counted failed sign-in).
Handlers reach the store only through here (docs/architecture.md, "Transactions")."""

from __future__ import annotations

from marketred.store.session import after_commit, keep_when_refused

__all__ = ["after_commit", "keep_when_refused"]
