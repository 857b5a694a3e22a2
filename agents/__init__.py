"""Faust agents: the live edge of the engine."""
