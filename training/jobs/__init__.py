"""Retraining jobs: one plain job function, the double gate, and where jobs run (a worker process
beside the service, or a Ray cluster). See `training/jobs/README.md`."""
