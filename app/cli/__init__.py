"""Commands: the `stylecam` entry point, argument parsing and each subcommand."""
