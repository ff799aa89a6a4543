"""`make bench`: the speed and memory goals, measured and printed (never asserted by tests)."""
