"""The cluster model: plain objects and methods, no sockets, no threads, no clock of its own.

Every method takes the current time from its caller, raises ``PveError`` with PVE's own texts,
and is called by the HTTP layer under one lock, so each API call is atomic.
"""

from solti.sandbox.pve.errors import PveError
from solti.sandbox.pve.state.cluster import Cluster, Storage, Volume
from solti.sandbox.pve.state.tasks import Task, TaskError

__all__ = ["Cluster", "PveError", "Storage", "Task", "TaskError", "Volume"]
