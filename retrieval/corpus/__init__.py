"""The corpus: loading papers from files and arXiv, chunking them, and ingesting them into the index."""
