"""condorsim: daemons."""
