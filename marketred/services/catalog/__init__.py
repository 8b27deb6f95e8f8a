"""The catalog: vendors' products and photos, public reads, search, carts, featured."""
