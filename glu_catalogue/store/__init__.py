"""The catalogue's files: where they live, reading them, writing them atomically, the model registry, the schemas."""
