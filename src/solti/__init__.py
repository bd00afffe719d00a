"""Solti ChatOps: provision Proxmox VE virtual machines from Slack, with an operator CLI.

One namespace, three parts: ``solti.provisioning`` (Proxmox, audit log, policy; knows nothing of
Slack), ``solti.bot`` (the Slack app; knows nothing of proxmoxer) and ``solti.sandbox`` (the
simulators that every test and ``solti sandbox`` run against).
"""
