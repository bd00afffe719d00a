"""The Proxmox domain: templates, VMs, the audit log and the operator CLI verbs."""
