"""condorsim: shared."""
