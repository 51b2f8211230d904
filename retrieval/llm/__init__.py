"""Language models: their clients, answerers, claim checks and the one deadline per answer."""
