"""The live pipeline: frame sources, cameras, threads and slots, and its measurements."""
