"""The jobs that run the parts in order: build (generate, then write), publish (data, then site), check (data, then site)."""
