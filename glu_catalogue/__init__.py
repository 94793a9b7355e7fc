"""catalogue: the architecture data of width-pruned GLU language models, produced and verified.

The expansion ratio is ``intermediate_size / hidden_size`` as a factor (Llama-3.2-1B: 8192 / 2048
= 4.0x). Importing this package imports neither torch nor pandas.
"""

__version__ = "0.1.0"
