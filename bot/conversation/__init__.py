"""A conversation: one message end to end, the effects scripts ask for, what it leaves in the database."""
