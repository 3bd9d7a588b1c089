"""`shuanglian db check`: missing indexes, table sizes and slow plans of the key queries."""
