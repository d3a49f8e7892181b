matrix --help
