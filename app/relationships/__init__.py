"""Relationships: the top-level lifecycle instances, their progress, trail, evidence and diagrams."""
