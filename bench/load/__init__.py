"""The Locust load test (make load)."""
