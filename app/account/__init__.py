"""Your account: password, API tokens (and, with server-side sessions, your active sessions)."""
