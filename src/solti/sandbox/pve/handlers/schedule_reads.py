"""``GET /cluster/jobs/schedule-analyze``: the next runs of a job schedule, computed as PVE does.

pve-manager ``PVE/API2/Cluster/Jobs.pm`` ``schedule-analyze``: ``starttime`` defaults to now,
``iterations`` to 10; each run is ``compute_next_event`` after the previous one (stopping
when there is none), as ``{timestamp, utc => scalar(gmtime($next))}`` (Perl's ctime form,
"Thu Dec  3 12:15:00 2026"). The ``schedule`` parameter's format ``pve-calendar-event``
(pve-common ``src/PVE/CalendarEvent.pm`` ``pve_verify_calendar_event``) refuses text that does
not parse with "invalid calendar event '<text>' - <why>", a 400 from the parameter check;
the parsing itself is ``solti.sandbox.pve.calendar_event``.
"""

from __future__ import annotations

import time
from typing import Any

from solti.sandbox.pve import calendar_event
from solti.sandbox.pve.api_errors import param_error
from solti.sandbox.pve.handlers import Call, Handler

DEFAULT_ITERATIONS = 10


def schedule_analyze(call: Call) -> list[dict[str, Any]]:
    text = call.params["schedule"]
    try:
        event = calendar_event.parse(text)
    except calendar_event.CalendarEventError as exc:
        raise param_error({"schedule": f"invalid calendar event '{text}' - {exc}"}) from exc
    start = call.params.get("starttime")
    if start is None:
        with call.cluster() as cluster:
            start = int(cluster.now)
    runs: list[dict[str, Any]] = []
    last = int(start)
    for _ in range(int(call.params.get("iterations") or DEFAULT_ITERATIONS)):
        following = event.next_after(last)
        if following is None:
            break
        runs.append({"timestamp": following, "utc": time.asctime(time.gmtime(following))})
        last = following
    return runs


SCHEDULE_READS: dict[str, Handler] = {"/cluster/jobs/schedule-analyze": schedule_analyze}
