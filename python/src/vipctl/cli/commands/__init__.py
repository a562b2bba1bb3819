"""One module per CLI command; each takes a Context and returns an Outcome."""
