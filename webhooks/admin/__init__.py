"""Administration pages (``/admin/``): providers, areas, tokens and staff for an admin; a provider admin manages
their own provider's people, answers a young person's subject access request or erasure, and reads their
provider's audit log. The rules are ``bot.admin``'s; these pages only ask and show."""
