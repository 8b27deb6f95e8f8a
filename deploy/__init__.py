"""Deployment files; `python -m deploy.check` validates them (part of `make lint`)."""
