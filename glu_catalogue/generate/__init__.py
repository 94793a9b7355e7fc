"""The generator: materialise models with transformers, prune them with optipfair, count what is left.

The only subpackage that imports torch, transformers and optipfair (``model`` and ``pruning``);
``weights`` and ``memory`` import no torch, so importing this package imports no torch.
"""
