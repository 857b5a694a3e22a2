"""The gospulse engine: per-public engagement state, its tables, its codec and offline replay."""
