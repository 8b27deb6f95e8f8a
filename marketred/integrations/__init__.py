"""Typed clients of outside systems (Khipu, the directory's indexer, SMTP)."""
