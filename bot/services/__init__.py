"""Use cases: every adapter calls these, and only these, to change anything."""
