"""Temporal workflows (deterministic; import only temporalio, stdlib and schemas)."""
