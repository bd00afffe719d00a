"""The Slack face of Solti ChatOps: slash commands, modals, approvals, progress, reports."""
