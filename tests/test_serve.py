"""``python -m portal run``'s job worker is supervised: started again whenever it stops, until the
portal stops (portal/serve.py ``Supervised``)."""

from __future__ import annotations

import sys
import time

from portal.serve import Supervised


def test_a_stopped_worker_is_started_again_until_the_portal_stops(tmp_path):
    starts = tmp_path / "starts"
    command = [sys.executable, "-c", f"open({str(starts)!r}, 'a').write('started\\n')"]  # exits at once
    Supervised.RESTART_DELAY, delay = 0.05, Supervised.RESTART_DELAY
    try:
        child = Supervised(command, {})
        deadline = time.monotonic() + 30
        while not starts.exists() or len(starts.read_text().splitlines()) < 3:   # a readiness poll
            assert time.monotonic() < deadline, "the child was not started again"
            time.sleep(0.02)
        child.stop()
        assert child.stopping.is_set() and child.process.wait(timeout=10) is not None
    finally:
        Supervised.RESTART_DELAY = delay
