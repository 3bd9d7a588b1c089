"""shuanglian (双链): joins the innovation chain (patents) to the industry chain (enterprises)."""

__version__ = "0.1.0"
