"""The catalogue in other people's formats: Every Eval Ever records, Hugging Face model cards, the Hub's derivatives.

It reads the catalogue (core, store, outcomes, checkpoints) and writes what other tools read; it
imports no torch.
"""
