"""Human tasks as people see them: the inbox, the task and approval pages, drafts and comments."""
