"""Jobs used only by the multi-process tests. Each execution appends one line to the file named by
GREENROOM_TEST_JOBS_LOG; O_APPEND makes each short write atomic across processes."""

from __future__ import annotations

import os
import time

from greenroom.jobs.models import JobRun
from greenroom.jobs.registry import JobContext, job


def record(*words: object) -> None:
    fd = os.open(os.environ["GREENROOM_TEST_JOBS_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (" ".join(str(w) for w in words) + "\n").encode())
    finally:
        os.close(fd)


@job("testjobs.tick", every=1, core=True)
def tick(ctx: JobContext) -> dict:
    record("tick", ctx.run_id, os.getpid())
    return {}


@job("testjobs.work")
def work(ctx: JobContext) -> dict:
    time.sleep(0.05)  # long enough that the three workers overlap
    record("work", ctx.run_id, os.getpid())
    return {"n": ctx.args["n"]}


@job("testjobs.hang_once")
def hang_once(ctx: JobContext) -> dict:
    """Hangs on its first attempt (its worker is killed meanwhile) and succeeds on the next."""
    with ctx.database.read() as db:
        attempt = db.get(JobRun, ctx.run_id).attempts
    record("hang", ctx.run_id, attempt, os.getpid())
    if attempt == 1:
        time.sleep(60)
    return {"attempt": attempt}
