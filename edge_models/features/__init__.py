"""Feature extraction shared by training and live inference: one code path, no skew.

- `effort`: power/speed/cadence -> effort in [0, 1] -> work/rest state, step by step.
- `plan`: the coach's interval plan as model input (`IntervalPlan`, `plan_channels`).
- `hr`: heart-rate windows from recordings; `hr_live.LiveHrWindow` builds them live.
- `hr_insights`: the rep's predicted peak, time to recover, unusual responses.
- `explain`: occlusion explanations of the heart-rate forecast and the movement class.
- `calibration`: honest movement probabilities, "unsure", a label that holds.
- `movement`: pose-landmark windows and their augmentation.
"""
