"""behaviours/workers.py: lanes of daemon worker threads for plain ``def`` handlers (no sockets: threads only)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.waiting import wait_until

from postmock_nb.behaviours.workers import CANCELLED, DONE, QUEUED, RUNNING, HandlerAborted, Job, Lane


@pytest.fixture
def lanes() -> Iterator[Callable[[str, int], Lane]]:
    made: list[Lane] = []

    def make(name: str, size: int) -> Lane:
        lane = Lane(name, size)
        made.append(lane)
        return lane

    yield make
    for lane in made:
        lane.close()


def _threads(prefix: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith(prefix + "-")]


def test_a_call_runs_on_a_daemon_worker_and_its_value_comes_back(lanes: Callable[[str, int], Lane]) -> None:
    lane = lanes("lane-value", 1)
    seen: list[threading.Thread] = []

    def double(value: int) -> int:
        seen.append(threading.current_thread())
        return value * 2

    async def main() -> tuple[int, Job]:
        job = lane.submit(double, 21, "double")
        return await job.future, job

    value, job = asyncio.run(main())
    assert value == 42
    assert seen[0] is not threading.main_thread() and seen[0].daemon
    assert seen[0].name == "lane-value-1"
    assert job.state == DONE and job.label == "double" and job.argument == 21
    waited, ran = job.times_ms()
    assert waited >= 0 and ran >= 0
    assert job.times_ms(now=job.ended_at + 10.0) == (waited, ran)  # an ended call's times stay fixed


def test_an_exception_comes_back_as_it_was_raised(lanes: Callable[[str, int], Lane]) -> None:
    lane = lanes("lane-error", 1)

    def fail(_: Any) -> None:
        raise ValueError("bad value")

    async def main() -> None:
        await lane.submit(fail, None, "fail").future

    with pytest.raises(ValueError, match="bad value"):
        asyncio.run(main())


@pytest.mark.parametrize("raised", [SystemExit(3), KeyboardInterrupt(), GeneratorExit()])
def test_a_base_exception_comes_back_as_handler_aborted(lanes: Callable[[str, int], Lane],
                                                        raised: BaseException) -> None:
    lane = lanes("lane-abort", 1)

    def stop(_: Any) -> None:
        raise raised

    async def main() -> Any:
        return await lane.submit(stop, None, "stop").future

    with pytest.raises(HandlerAborted) as caught:
        asyncio.run(main())
    assert caught.value.error is raised
    assert str(caught.value).startswith(type(raised).__name__ + ":")


def test_a_worker_survives_an_abort_and_takes_the_next_call(lanes: Callable[[str, int], Lane]) -> None:
    lane = lanes("lane-survive", 1)

    def stop(_: Any) -> None:
        raise SystemExit

    async def main() -> Any:
        with pytest.raises(HandlerAborted):
            await lane.submit(stop, None, "stop").future
        return await lane.submit(str.upper, "next", "upper").future

    assert asyncio.run(main()) == "NEXT"
    assert len(_threads("lane-survive")) == 1


def test_a_lane_of_one_runs_calls_one_at_a_time_in_order(lanes: Callable[[str, int], Lane]) -> None:
    lane = lanes("lane-serial", 1)
    order: list[int] = []
    running = 0
    most = 0
    lock = threading.Lock()

    def record(number: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        order.append(number)
        with lock:
            running -= 1
        return number

    async def main() -> list[int]:
        jobs = [lane.submit(record, number, "record") for number in range(20)]
        return list(await asyncio.gather(*(job.future for job in jobs)))

    assert asyncio.run(main()) == list(range(20))
    assert order == list(range(20)) and most == 1
    assert len(_threads("lane-serial")) == 1


def test_a_wider_lane_runs_calls_side_by_side(lanes: Callable[[str, int], Lane]) -> None:
    lane = lanes("lane-wide", 3)
    barrier = threading.Barrier(3, timeout=10)

    def meet(number: int) -> int:
        barrier.wait()  # only returns when three calls run at once
        return number

    async def main() -> list[int]:
        jobs = [lane.submit(meet, number, "meet") for number in range(3)]
        return list(await asyncio.gather(*(job.future for job in jobs)))

    assert asyncio.run(main()) == [0, 1, 2]
    assert len(_threads("lane-wide")) == 3


def test_an_abandoned_queued_call_never_runs(lanes: Callable[[str, int], Lane]) -> None:
    lane = lanes("lane-queued", 1)
    release = threading.Event()
    ran: list[str] = []

    def hold(_: Any) -> str:
        release.wait(10)
        ran.append("hold")
        return "held"

    async def main() -> tuple[str, Job]:
        first = lane.submit(hold, None, "hold")
        second = lane.submit(ran.append, "second", "second")
        await asyncio.to_thread(wait_until, lambda: first.state == RUNNING)
        assert (second.state, lane.waiting) == (QUEUED, 1)
        lane.abandon(second)
        assert (second.state, lane.waiting) == (CANCELLED, 0)
        release.set()
        return await first.future, second

    held, second = asyncio.run(main())
    assert held == "held" and ran == ["hold"]
    assert not second.future.done()


def test_an_abandoned_running_call_retires_its_worker_and_a_new_one_takes_the_queue(
        lanes: Callable[[str, int], Lane]) -> None:
    lane = lanes("lane-stuck", 1)
    release = threading.Event()

    def stuck(_: Any) -> str:
        release.wait(10)
        return "late"

    async def main() -> tuple[str, Job]:
        blocked = lane.submit(stuck, None, "stuck")
        await asyncio.to_thread(wait_until, lambda: blocked.state == RUNNING)
        after = lane.submit(str.upper, "after", "upper")
        lane.abandon(blocked)
        assert lane.stuck("stuck") == 1 and lane.stuck("upper") == 0
        value = await after.future  # answered by the new worker while the old one is still stuck
        release.set()
        await asyncio.to_thread(wait_until, lambda: lane.stuck("stuck") == 0)
        return value, blocked

    value, blocked = asyncio.run(main())
    assert value == "AFTER"
    assert blocked.state == DONE and not blocked.future.done()  # its late value goes nowhere
    assert [thread.name for thread in _threads("lane-stuck")] == ["lane-stuck-2"]


def test_abandoning_a_finished_call_changes_nothing(lanes: Callable[[str, int], Lane]) -> None:
    lane = lanes("lane-finished", 1)

    async def main() -> Job:
        job = lane.submit(abs, -1, "abs")
        await job.future
        lane.abandon(job)
        return job

    job = asyncio.run(main())
    assert job.state == DONE and lane.stuck("abs") == 0
    assert len(_threads("lane-finished")) == 1


def test_close_lets_the_workers_leave() -> None:
    lane = Lane("lane-close", 2)

    async def main() -> list[int]:
        jobs = [lane.submit(abs, -number, "abs") for number in range(4)]
        return list(await asyncio.gather(*(job.future for job in jobs)))

    assert asyncio.run(main()) == [0, 1, 2, 3]
    assert _threads("lane-close")
    lane.close()
    wait_until(lambda: not _threads("lane-close"))
    assert lane.waiting == 0


def test_a_queued_job_reports_its_wait_so_far() -> None:
    loop = asyncio.new_event_loop()
    try:
        job = Job(abs, -1, "abs", loop)
        waited, ran = job.times_ms(now=job.queued_at + 0.25)
        assert (job.state, waited, ran) == (QUEUED, 250.0, 0.0)
        job.started_at = job.queued_at + 0.25
        assert job.times_ms(now=job.queued_at + 1.0) == (250.0, 750.0)
    finally:
        loop.close()


def test_a_call_whose_loop_closed_meanwhile_is_dropped_quietly(lanes: Callable[[str, int], Lane]) -> None:
    lane = lanes("lane-closed-loop", 1)
    release = threading.Event()

    def slow(_: Any) -> str:
        release.wait(10)
        return "late"

    async def main() -> Job:
        job = lane.submit(slow, None, "slow")
        await asyncio.to_thread(wait_until, lambda: job.state == RUNNING)
        return job

    job = asyncio.run(main())  # the loop is closed when this returns
    release.set()
    wait_until(lambda: job.state == DONE)

    async def again() -> str:
        return await lane.submit(str.lower, "OK", "lower").future

    assert asyncio.run(again()) == "ok"  # the worker lived on and takes calls of another loop
    assert len(_threads("lane-closed-loop")) == 1
