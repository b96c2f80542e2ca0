"""A worker process for the multi-process tests: ``python worker_process.py DB_URL LEASE_SECONDS``.

Only the built-in and the sample jobs are loaded. SIGTERM stops it after the current run.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from greenroom.config import Settings  # noqa: E402
from greenroom.db.engine import Database  # noqa: E402
from greenroom.jobs import registry  # noqa: E402
from greenroom.jobs.worker import Worker  # noqa: E402


def main() -> None:
    url, lease = sys.argv[1], float(sys.argv[2])
    registry.JOB_MODULES[:] = ["greenroom.jobs.builtin", "sample_jobs"]
    import sample_jobs

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    database = Database(url)
    worker = Worker(database, Settings(), poll_interval=0.05, lease=timedelta(seconds=lease))
    worker.start()
    sample_jobs.record("ready", os.getpid())
    worker.run(stop)
    database.dispose()


if __name__ == "__main__":
    main()
