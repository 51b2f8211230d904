"""Understanding a question: its text and parts, the people and titles it names, the fitted decisions."""
