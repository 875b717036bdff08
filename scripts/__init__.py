"""condorsim: scripts."""
