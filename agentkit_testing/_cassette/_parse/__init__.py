"""Cassette text to plain data: the YAML and JSON loaders, the run layout, the fast run reader, their limits."""
