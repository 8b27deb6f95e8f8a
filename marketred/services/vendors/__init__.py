"""Vendors: creation and the settings their staff and operators set."""
