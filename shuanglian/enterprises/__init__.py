"""Enterprises (the industry chain), their technical demands and importers."""
