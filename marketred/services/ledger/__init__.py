"""The ledger: double-entry postings; reports and reconciliation read it."""
