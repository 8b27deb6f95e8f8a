"""InforedChile directory sandbox (site, indexer endpoint, OpenID provider)."""
