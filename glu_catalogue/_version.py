"""The package's version, in a leaf module: every part below the public API reads it here, not from the package root."""

__version__ = "0.1.0"
