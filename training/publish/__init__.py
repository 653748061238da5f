"""Signing and publishing accepted models as a TUF repository (python-tuf's Metadata API).

`init_repository` creates the keys and root v1, `publish_model` adds a model bundle as targets,
`refresh_expiring` keeps timestamp and snapshot fresh, `renew_root` re-signs root with the
offline root key. `trackside-cloud init` / `publish` call `cli_init` / `cli_publish`.
"""
