"""Payments: the one Khipu payment of a quote, its checks, refunds and webhooks."""
