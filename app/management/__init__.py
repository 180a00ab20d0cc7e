"""The organisation's collaborative management system: done once, kept current, relied on by every relationship."""
