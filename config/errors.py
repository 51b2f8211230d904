"""The root of every error paperbot reports to people.

Each module raises its own kind (a store that can't be opened, a malformed file, a refused
question …), all subclasses of :class:`PaperbotError`, whose message is one line naming the cause
and what to check, safe to show. The CLI turns any of them into one ``Error: …`` line; the Slack
surfaces say more about the kinds they can act on and apologise for the rest. Anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations


class PaperbotError(Exception):
    """An error whose message is for the person who ran the command or asked the question."""
