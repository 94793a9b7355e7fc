"""Measuring pruned models: ``catalogue evaluate`` (lm-evaluation-harness) and ``catalogue bench`` (speed, memory, energy).

Like ``generate/``, whose one-load pruning it reuses, this part imports torch, transformers and
optipfair (and lm-eval, codecarbon when asked); its package and ``machine`` do not.
"""
