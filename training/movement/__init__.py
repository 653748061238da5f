"""The movement model: hand-labelled real clips -> pose landmarks -> temporal CNN -> int8 LiteRT."""
