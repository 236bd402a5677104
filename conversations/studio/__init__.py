"""The coordinators' studio: edit, check, simulate, test and publish the scripts, the safeguarding lexicon
and the helplines in the browser (``/studio/``).

``content`` and ``store`` are plain Python (the runtime uses them to run what is published);
``views.studio`` is the Flask blueprint, registered by ``webhooks.app``.
"""
