"""A paper summary's sentences: splitting them verbatim, their vectors, and how well each answers a question."""
