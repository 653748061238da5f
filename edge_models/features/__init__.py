"""Feature extraction shared by training and live inference: one code path, no skew.

- `hr`: heart-rate windows from recordings; `hr_live.LiveHrWindow` builds them live.
- `hr_insights`: the rep's predicted peak, time to recover, unusual responses.
- `movement`: pose-landmark windows and their augmentation.
"""
