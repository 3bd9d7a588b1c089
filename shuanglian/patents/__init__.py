"""Patents and the institutions that hold them: models, numbers, importers, API."""
