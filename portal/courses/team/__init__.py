"""A course's teaching team: co-instructors and their permissions (the owner's page)."""
