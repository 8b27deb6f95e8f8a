"""MarketRed: a quote-based multi-vendor marketplace where every quote is a Temporal workflow."""
