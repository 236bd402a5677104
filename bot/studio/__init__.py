"""What the coordinators' studio does, without its pages: drafts (``store``), checks and publishing
(``publishing``), the simulator, transcript tests, the texts table and the diagram. What a release's files
build into is ``bot.releases``, which the runtime uses too; the pages are ``webhooks.studio``."""
