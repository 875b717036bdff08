"""pytest plugin (entry point ``pytest11``): pool fixtures built on the PersonalPool harness."""
