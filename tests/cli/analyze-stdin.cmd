analyze --format json -
