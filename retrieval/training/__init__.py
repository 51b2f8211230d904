"""Labelled questions, fitting the decisions and the reader, and scoring the answer path."""
