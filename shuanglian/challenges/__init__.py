"""Enterprise challenges (揭榜挂帅): 出题 → 领题 → 答题 → 验题."""
