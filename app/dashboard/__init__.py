"""The portfolio dashboard for SERs and the board: every relationship at a glance, charts drawn as SVG."""
