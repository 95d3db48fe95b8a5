"""Hypothesis support: tool arguments from schemas, scripted model behaviour, and flow state machines."""
