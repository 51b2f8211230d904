"""The index: the Chroma store, the in-memory corpus index, embeddings, lexical and hybrid search."""
