"""Digest items and their storage: item, attributes, store, batch, sample, write_outcome."""
