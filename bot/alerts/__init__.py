"""Getting a person to read what they must: safeguarding alerts, the To read list, the duty rota."""
