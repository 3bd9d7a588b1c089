"""Stock-patent inventory (存量专利盘点): batches, self-assessment, review, convertible pool,
value indicators, push rounds, enterprise feedback, tiered promotion and reports."""
