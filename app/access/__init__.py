"""Who may see what of a relationship: our organisation sees it all, a partner organisation only its own
relationships' joint parts, and of those only what the knowledge map shares."""
