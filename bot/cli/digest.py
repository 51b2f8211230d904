"""`paperbot` commands (to be filled)."""


def register(cli) -> None:
    """Add this module's commands to the `paperbot` group."""
