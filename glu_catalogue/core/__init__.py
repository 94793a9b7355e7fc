"""The catalogue's core: closed-form formulas, records, derived values, the CSV projection, problems.

No file I/O and no torch here: everything is a pure function of its arguments.
"""
