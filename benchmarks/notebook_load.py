"""A notebook under load: a trivial cell's latency and the dashboard's messages while the mock serves.

    .venv/bin/python benchmarks/notebook_load.py [--rate 1000] [--seconds 10] [--cells 40]

A real Jupyter kernel (jupyter_client) loads the extension, defines one example and runs
``%mock start`` with its live dashboard. This process then sends requests to the mock at
``--rate`` per second (paced, on keep-alive connections, 127.0.0.1 only, for ``--seconds``), and
meanwhile runs ``1 + 1`` cells one after another, timing each from ``execute_request`` to its
``execute_reply``. Every ``comm_msg`` the kernel publishes (the dashboard's widget updates) is
counted. Goals (issue 15): the cell's latency under 50 ms while the mock serves 1,000 req/s, and at
most 10 dashboard messages a second. The kernel is shut down at the end (its mock with it).
"""

from __future__ import annotations

import argparse
import http.client
import queue
import re
import statistics
import sys
import threading
import time
from typing import Any

from jupyter_client.manager import KernelManager

LATENCY_GOAL_MS = 50.0
MESSAGES_GOAL = 10.0


def run_cell(client: Any, code: str, timeout: float = 30.0) -> tuple[float, dict[str, Any]]:
    """Run ``code``; its round trip in ms and its reply content."""
    started = time.perf_counter()
    msg_id = client.execute(code)
    while True:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return (time.perf_counter() - started) * 1000, reply["content"]


def load(url: str, rate: float, seconds: float, sent: list[int], stop: threading.Event) -> None:
    """Paced GETs on two keep-alive connections until ``seconds`` pass or ``stop`` is set."""
    host, port = url.removeprefix("http://").split(":")
    connections = [http.client.HTTPConnection(host, int(port), timeout=10) for _ in range(2)]
    interval = 1.0 / rate
    started = time.perf_counter()
    count = 0
    while not stop.is_set() and time.perf_counter() - started < seconds:
        connection = connections[count % 2]
        connection.request("GET", "/ping")
        connection.getresponse().read()
        count += 1
        ahead = started + count * interval - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
    sent.append(count)
    for connection in connections:
        connection.close()


def count_comm_messages(client: Any, counts: queue.Queue[float], stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            message = client.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            continue
        if message["header"]["msg_type"] == "comm_msg":
            counts.put(time.perf_counter())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="trivial-cell latency and dashboard messages under load")
    parser.add_argument("--rate", type=float, default=1000.0, help="requests per second to send (paced)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the load lasts")
    parser.add_argument("--cells", type=int, default=40, help="trivial cells to time during the load")
    args = parser.parse_args(argv)

    manager = KernelManager(kernel_name="python3")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        for code in ("%load_ext postmock_nb", "%%example GET /ping 200\npong", "%mock start"):
            _, content = run_cell(client, code)
            if content["status"] != "ok":
                raise RuntimeError(f"{code!r} failed: {content}")
        _, content = run_cell(client, "print('MOCKURL', mockUrl)")
        url = ""
        deadline = time.monotonic() + 10
        while not url and time.monotonic() < deadline:  # the printed URL arrives on iopub
            message = client.get_iopub_msg(timeout=5)
            if message["header"]["msg_type"] == "stream":
                found = re.search(r"MOCKURL (http://127\.0\.0\.1:\d+)", message["content"]["text"])
                url = found.group(1) if found else ""
        if not url:
            raise RuntimeError("the mock's URL was not printed")
        idle = [run_cell(client, "1 + 1")[0] for _ in range(10)]

        stop = threading.Event()
        stamps: queue.Queue[float] = queue.Queue()
        watcher = threading.Thread(target=count_comm_messages, args=(client, stamps, stop), daemon=True)
        watcher.start()
        sent: list[int] = []
        loader = threading.Thread(target=load, args=(url, args.rate, args.seconds, sent, stop), daemon=True)
        load_started = time.perf_counter()
        loader.start()
        loaded: list[float] = []
        while loader.is_alive() and len(loaded) < args.cells:
            loaded.append(run_cell(client, "1 + 1")[0])
            time.sleep(args.seconds / args.cells / 2)
        loader.join(args.seconds + 30)
        load_seconds = time.perf_counter() - load_started
        stop.set()
        watcher.join(5)
        messages = stamps.qsize()
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)

    if not sent:
        raise RuntimeError("the load generator failed (see its traceback above)")
    rate = sent[0] / load_seconds
    p50, worst = statistics.median(loaded), max(loaded)
    per_second = messages / load_seconds
    print(f"mock load: {sent[0]} requests in {load_seconds:.1f} s = {rate:.0f} req/s "
          f"(asked for {args.rate:.0f})")
    print("| figure | value | goal |")
    print("| --- | ---: | --- |")
    print(f"| trivial cell, idle (median of {len(idle)}) | {statistics.median(idle):.1f} ms | |")
    print(f"| trivial cell under load (median of {len(loaded)}) | {p50:.1f} ms | < {LATENCY_GOAL_MS:.0f} ms: "
          f"{'MET' if p50 < LATENCY_GOAL_MS else 'MISSED'} |")
    print(f"| trivial cell under load (slowest) | {worst:.1f} ms | |")
    print(f"| dashboard messages per second | {per_second:.1f} | <= {MESSAGES_GOAL:.0f}: "
          f"{'MET' if per_second <= MESSAGES_GOAL else 'MISSED'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
