"""The joint layer: joint models (by id, from a cached registry) and the writer that backfills them."""
