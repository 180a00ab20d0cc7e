"""Evidence files: documents attached to tasks and relationships, kept with their checksum."""
