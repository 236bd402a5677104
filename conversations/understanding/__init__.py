"""Understanding a sentence: the facts a person's own words give (``core``), with one module of words per
language (``en``, ``cy``) and the shape they share (``rules``)."""
