"""One executor request per module, one file per module (`common` holds what they share)."""
