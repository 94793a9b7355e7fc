"""The ``catalogue`` command line: each command parses, calls one library function, formats, exits."""
