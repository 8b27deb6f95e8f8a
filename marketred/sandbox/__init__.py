"""Simulators of outside systems for dev and tests."""
