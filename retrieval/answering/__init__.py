"""Making an answer: the question-to-answer pipeline, the reader, catalog and list answers, citations."""
