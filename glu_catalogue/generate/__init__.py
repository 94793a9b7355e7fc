"""The generator: materialise models with transformers, prune them with optipfair, count what is left.

The only subpackage that imports torch, transformers and optipfair: ``model`` (load a model whole,
prune every level), ``streaming`` (one decoder layer at a time, for models larger than memory),
``pruning`` (optipfair's scores and selection), ``layer_weights`` (tensors one at a time, from a
checkpoint or a seed) and ``sharded_writer`` (pruned checkpoints, shard by shard). ``weights``,
``memory`` and ``checkpoint_dirs`` (where pruned checkpoints go, written aside and swapped in) import
no torch, and importing this package imports none.
"""
