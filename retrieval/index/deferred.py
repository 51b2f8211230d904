"""A part of the saved index that is read only when something first uses it.

`/paper` lookup's tables (a third of the saved index) and the tables that correct a misspelt word
are never read by a `paperbot ask` whose words the corpus has: saved as their own pickled bytes
inside the index, they are unpickled on first use instead of with the rest. Changes made before
then (the papers a new process catches up with) wait in order and are applied when the part is
made, so it ends as if it had been loaded at once.
"""

from __future__ import annotations

import gc
import pickle
import threading
from typing import Any


class Deferred:
    def __init__(self, part: Any):
        self._part = part
        self._pickled: bytes | None = None
        self._waiting: list[tuple[str, tuple]] = []  # (method, arguments) called before the part was made
        self._making = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._part is not None

    def get(self) -> Any:
        """The part itself (unpickled and brought up to date the first time)."""
        if self._part is None:
            with self._making:
                if self._part is None:
                    enabled = gc.isenabled()
                    gc.disable()  # millions of new objects, none of them garbage: see live_index._read_saved
                    try:
                        part = pickle.loads(self._pickled or b"")  # set whenever the part is not made yet
                    finally:
                        if enabled:
                            gc.enable()
                    for method, arguments in self._waiting:
                        getattr(part, method)(*arguments)
                    self._waiting, self._pickled, self._part = [], None, part
        return self._part

    def change(self, method: str, *arguments) -> None:
        """Call a method that changes the part: now if it is made, else when it is."""
        with self._making:
            if self._part is None:
                self._waiting.append((method, arguments))
                return
        getattr(self._part, method)(*arguments)

    def __getstate__(self) -> dict:
        if self._part is None and not self._waiting:  # saved again as it was read: no unpickling
            return {"_pickled": self._pickled}
        return {"_pickled": pickle.dumps(self.get(), protocol=pickle.HIGHEST_PROTOCOL)}

    def __setstate__(self, state: dict) -> None:
        self._part, self._pickled, self._waiting = None, state["_pickled"], []
        self._making = threading.Lock()
