"""What every family and every room above them stands on: errors, config, paths, the session."""
