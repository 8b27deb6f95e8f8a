"""Persistence: SQLAlchemy models, the async session, repositories and migrations."""
