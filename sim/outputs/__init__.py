"""Runs and their outputs: recording a batch, writing results folders atomically, figures."""
