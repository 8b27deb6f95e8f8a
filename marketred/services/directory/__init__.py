"""The business directory: company sync in, indexer push out, the site theme."""
