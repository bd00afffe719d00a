"""The cluster model: plain objects and methods, no sockets, no threads, no clock of its own.

Every method takes the current time from the cluster (moved by its caller), raises
``PveError`` with PVE's own texts, and is called by the HTTP layer under one lock, so each API
call is atomic. ``records`` holds the data records, each other module one part.
"""

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.state.cluster import Cluster
from solti.sandbox.pve.state.records import Guest, Storage, Volume
from solti.sandbox.pve.state.tasks import Task, TaskError

__all__ = ["Cluster", "Guest", "PveError", "Storage", "Task", "TaskError", "Volume"]
