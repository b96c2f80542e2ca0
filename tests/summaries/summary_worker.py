"""A worker process with every job module loaded: ``python summary_worker.py DB_URL LEASE_SECONDS``.
Provider settings come from the ``GREENROOM_*`` environment, as in production."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import timedelta

from greenroom.config import Settings
from greenroom.db.engine import Database
from greenroom.jobs.worker import Worker


def main() -> None:
    url, lease = sys.argv[1], float(sys.argv[2])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    database = Database(url)
    worker = Worker(database, Settings(_env_file=None), poll_interval=0.05, lease=timedelta(seconds=lease))
    worker.start()
    print("ready", flush=True)
    worker.run(stop)
    database.dispose()


if __name__ == "__main__":
    main()
