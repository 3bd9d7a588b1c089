"""Developer checks that ship with the package (stdlib only, never imported by the platform)."""
