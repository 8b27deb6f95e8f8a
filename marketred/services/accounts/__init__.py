"""Accounts: people, credentials, sessions, tokens, authorization, privacy rights."""
