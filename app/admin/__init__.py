"""Administration: organisations (ours and partners) and the people in them."""
