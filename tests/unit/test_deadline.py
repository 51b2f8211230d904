"""One deadline per answer: the caller gets control back in time, and the work is told to stop."""

from __future__ import annotations

import threading
import time

import pytest

from paperbot.retrieval.llm.deadline import Deadline, DeadlineExceeded


def test_items_pass_through_and_errors_come_back():
    deadline = Deadline(5)
    assert list(deadline.run(lambda: iter([1, 2, 3]))) == [1, 2, 3]
    assert not deadline.expired  # finishing in time leaves it running for whatever comes next

    def failing():
        yield 1
        raise ValueError("bad reply")

    with pytest.raises(ValueError, match="bad reply"):
        list(Deadline(5).run(failing))


def test_the_caller_gets_control_back_at_the_deadline_and_the_work_is_told_to_stop():
    stopped = threading.Event()
    deadline = Deadline(0.5)

    def slow():
        yield "first"
        while not deadline.expired:  # work that checks the deadline between pieces
            time.sleep(0.05)
        stopped.set()
        yield "too late"

    got = []
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        for item in deadline.run(slow):
            got.append(item)
    assert got == ["first"] and time.monotonic() - started < 0.7
    assert stopped.wait(1)


def test_work_that_never_checks_still_cannot_hold_the_caller():
    release = threading.Event()

    def stuck():
        release.wait(10)  # a blocking read that ignores the deadline
        yield "never seen"

    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        list(Deadline(0.3).run(stuck))
    assert time.monotonic() - started < 0.5
    release.set()


def test_closing_early_cancels_and_sleep_never_passes_the_deadline():
    deadline = Deadline(5)
    items = deadline.run(lambda: iter(range(100)))
    next(items)
    items.close()
    assert deadline.expired
    short = Deadline(0.2)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        short.sleep(5)
    assert time.monotonic() - started < 0.4
