"""The embedded default: Proxmox simulator, image mirror, Slack stand-in and console."""
