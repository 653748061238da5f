"""Sync with the team's cloud: session bundles, the outbox worker, enrolment and what the coach sees.

Nothing here imports Qt; the Sync screen shows `desktop.sync.state.SyncStatus`.
"""
