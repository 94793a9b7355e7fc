"""The site: pages and charts rendered from the records, written to and checked against ``docs/``."""
