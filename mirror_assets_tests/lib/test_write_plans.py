import threading
import time

import pytest

from mirror_assets.lib.write_plans import WritePlan, WriterSlots, fallback_plans


@pytest.mark.parametrize(
    ("writers", "partitions", "plans"),
    [
        (
            2,
            18,
            [
                WritePlan(2, 2),
                WritePlan(1, 5, exclusive=True),
                WritePlan(1, 0, exclusive=True, keep_insertion_order=False),
            ],
        ),
        (
            1,
            3,
            [
                WritePlan(1, 1),
                WritePlan(1, 2, exclusive=True),
                WritePlan(1, 0, exclusive=True, keep_insertion_order=False),
            ],
        ),
        (2, 2, [WritePlan(2, 2), WritePlan(1, 0, exclusive=True, keep_insertion_order=False)]),
        (2, 1, [WritePlan(2, 2), WritePlan(1, 1, exclusive=True, keep_insertion_order=False)]),
        (1, 0, [WritePlan(1, 1), WritePlan(1, 1, exclusive=True, keep_insertion_order=False)]),
    ],
)
def test_each_fallback_plan_holds_less_at_once(writers, partitions, plans):
    assert fallback_plans(writers, partitions) == plans


def test_plans_describe_themselves_for_the_outcome():
    assert WritePlan(2, 2).describe() == "2 partition groups, 2 writers at once"
    assert WritePlan(1, 1).describe() == "one writer"
    assert WritePlan(1, 5, exclusive=True).describe() == (
        "5 partition groups one at a time, nothing alongside"
    )


def test_slots_are_granted_in_order_so_a_large_request_is_not_overtaken():
    """With one of two slots held, a request for both waits; a later request for one waits
    behind it rather than taking the free slot."""
    slots = WriterSlots(2)
    events: list[str] = []
    lock = threading.Lock()

    def take(name: str, count: int, hold_for: float) -> None:
        with slots.hold(count) as held:
            with lock:
                events.append(f"{name}+{held}")
            time.sleep(hold_for)
        with lock:
            events.append(f"{name}-")

    first = threading.Thread(target=take, args=("small", 1, 0.3))
    first.start()
    time.sleep(0.05)
    large = threading.Thread(target=take, args=("large", 5, 0.2))
    large.start()
    time.sleep(0.05)
    late = threading.Thread(target=take, args=("late", 1, 0.0))
    late.start()
    for thread in (first, large, late):
        thread.join()
    assert events == ["small+1", "small-", "large+2", "large-", "late+1", "late-"]
