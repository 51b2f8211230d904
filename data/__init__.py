"""The corpus paperbot ships with (``corpus/``), read by ``paperbot ingest`` by default."""
