"""HTCondor configuration language."""
