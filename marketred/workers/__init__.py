"""Process entry points: the Temporal worker, the `marketred` CLI, the dev stack."""
