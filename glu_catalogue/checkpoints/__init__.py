"""Inspecting a checkpoint directory from its safetensors headers: no torch, no weights read."""
