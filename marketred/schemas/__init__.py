"""Contracts that cross a boundary (API bodies, workflow inputs/outputs) and pure domain
rules (money, RUT). Imports nothing of ours but itself."""
