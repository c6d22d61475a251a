import threading
import time

import pytest

from mirror_assets.transforms.write_plans import WritePlan, WriterSlots, fallback_plans


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


def _take_in_turn(slots, requests):
    """Start the requests (name, count, priority, seconds held) 50 ms apart; return the order
    of grants (`name+count`) and releases (`name-`)."""
    events: list[str] = []
    lock = threading.Lock()

    def take(name: str, count: int, priority: int, hold_for: float) -> None:
        with slots.hold(count, priority=priority) as lease:
            with lock:
                events.append(f"{name}+{lease.count}")
            time.sleep(hold_for)
        with lock:
            events.append(f"{name}-")

    threads = []
    for request in requests:
        threads.append(threading.Thread(target=take, args=request))
        threads[-1].start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    return events


def test_slots_are_granted_in_order_so_a_large_request_is_not_overtaken():
    """With one of two slots held, a request for both waits; a later request for one waits
    behind it rather than taking the free slot."""
    events = _take_in_turn(
        WriterSlots(2), [("small", 1, 0, 0.3), ("large", 5, 0, 0.2), ("late", 1, 0, 0.0)]
    )
    assert events == ["small+1", "small-", "large+2", "large-", "late+1", "late-"]


def test_waiting_requests_are_served_by_priority_first():
    events = _take_in_turn(
        WriterSlots(2),
        [("first", 2, 0, 0.3), ("low", 1, 1, 0.0), ("high", 2, 2, 0.1), ("low2", 1, 1, 0.0)],
    )
    assert events[:4] == ["first+2", "first-", "high+2", "high-"]
    assert sorted(events[4:]) == ["low+1", "low-", "low2+1", "low2-"]


def test_a_released_lease_frees_its_slots_before_the_block_ends():
    slots = WriterSlots(2)
    with slots.hold(2) as lease:
        lease.release()
        with slots.hold(2) as again:
            assert again.count == 2
    assert slots._free == 2


def test_a_cancelled_request_gets_no_slots():
    slots = WriterSlots(1)
    cancel = threading.Event()
    with slots.hold(1):
        threading.Timer(0.1, cancel.set).start()
        with slots.hold(1, cancel=cancel) as lease:
            assert lease.count == 0
    with slots.hold(1) as lease:
        assert lease.count == 1


def test_a_reservation_keeps_its_place_until_taken_or_withdrawn():
    """A request queued early is served before later ones even if it is taken later; once
    withdrawn, the requests behind it go ahead."""
    slots = WriterSlots(1)
    early = slots.reserve(1, priority=2)
    late = threading.Thread(target=lambda: slots.hold(1).__enter__())
    late.start()
    time.sleep(0.1)
    assert late.is_alive()  # queued behind the reservation, though the slot is free
    with early.held() as lease:
        assert lease.count == 1
    late.join(timeout=1)
    assert not late.is_alive()
    withdrawn = WriterSlots(1)
    reservation = withdrawn.reserve(1, priority=5)
    reservation.withdraw()
    with withdrawn.hold(1) as lease, reservation.held() as none:
        assert (lease.count, none.count) == (1, 0)
