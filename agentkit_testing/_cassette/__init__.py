"""Cassette files: their records, codec, safe loaders, lazy loading, splicing writer and the `cassette()` block."""
