"""Peak memory of the bulk job, measured over its whole process tree from /proc.

The job's workers memory-map the same index files, so their RSS values double count the
shared pages; PSS (proportional set size) splits each shared page among the processes that
map it, and its sum is the memory the machine really needs. Read from
/proc/<pid>/smaps_rollup (Linux), for this process and every descendant (worker processes,
or a local Ray cluster's raylet and workers).
"""

from __future__ import annotations

import os
import threading


def _rollup_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in KiB from /proc (PSS splits shared mmap pages among their
    users, so summed over processes it is the memory the machine really needs)."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def _descendants(pid: int) -> list[int]:
    """This process's children, grandchildren... (workers, Ray's raylet and workers)."""
    out: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{current}/task/{tid}/children", encoding="ascii") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except OSError:
                continue
            out.extend(kids)
            stack.extend(kids)
    return out


class MemoryWatch:
    """Samples this process and all its descendants (workers, Ray's processes) every
    `interval` seconds: peak summed RSS (counts each shared page once per process) and peak
    summed PSS (shares split: the real total the machine needs)."""

    def __init__(self, interval: float = 2.0) -> None:
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        rss = pss = 0
        me = os.getpid()
        for pid in [me, *_descendants(me)]:
            r, p = _rollup_kib(pid)
            rss += r * 1024
            pss += p * 1024
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> MemoryWatch:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def report(self, budget_gb: float) -> dict[str, float]:
        mib = 1024 * 1024
        return {
            "peak_rss_mib": round(self.peak_rss / mib, 1),
            "peak_pss_mib": round(self.peak_pss / mib, 1),
            "budget_mib": round(budget_gb * 1024, 1),
            "within_budget": float(self.peak_pss <= budget_gb * 1024 * mib),
        }
