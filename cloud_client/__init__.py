"""The laptop's client of the team's cloud service (requests only; no TensorFlow, no Qt, no app imports).

`cloud_client.client` holds the one I/O seam and its exception tree; `cloud_client.protocol` what
both sides share: paths, headers, limits and the session bundle's format.
"""
