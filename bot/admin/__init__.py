"""Running the service without code: providers, the areas they cover, staff accounts and their credentials,
and how long children's data is kept. The ``rhi`` commands and the admin pages both come here, so each rule
lives once."""


class Refused(Exception):
    """A change that cannot be made as asked; the message is one line saying why, for a person to act on.

    Raised before anything is written, or inside the caller's transaction, which then rolls back: a refused
    change leaves nothing behind."""
