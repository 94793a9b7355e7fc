"""The verifier of the data: every record, count, rounded value and CSV cell recomputed; never the site, never torch."""
