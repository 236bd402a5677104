"""The coordinators' studio pages (``/studio``): edit, check, try and publish the scripts, the words and
the helplines."""
