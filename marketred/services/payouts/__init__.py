"""Payouts: gathering a vendor's sales, deciding, transferring, bank files, reports."""
