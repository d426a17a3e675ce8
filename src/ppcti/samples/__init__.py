"""Synthetic, deterministic sample datasets with ground truth."""
