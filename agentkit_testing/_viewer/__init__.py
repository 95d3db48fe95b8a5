"""The cassette page: self-contained HTML for one cassette, a pair, or a replay that diverged."""
