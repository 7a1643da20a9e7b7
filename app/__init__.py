"""Command line, pipeline threads, Qt window and output sinks."""
