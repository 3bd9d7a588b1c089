"""Text normalisation and tokenisation shared by the importers and the engine; pure functions."""
