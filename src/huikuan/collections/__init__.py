"""Collections: strategies (escalation ladders), the daily run, actions and what they send."""
