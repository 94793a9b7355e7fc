"""The generator: materialise models with transformers, prune them with optipfair, count what is left.

The only subpackage that imports torch, transformers and optipfair: ``model`` (load a model whole,
prune every level), ``streaming`` (one decoder layer at a time, for models larger than memory),
``pruning`` (optipfair's scores and selection), ``layer_weights`` (tensors one at a time, from a
checkpoint or a seed) and ``sharded_writer`` (pruned checkpoints, shard by shard). ``weights`` and
``memory`` are standard library only, so importing this package imports no torch.
"""
