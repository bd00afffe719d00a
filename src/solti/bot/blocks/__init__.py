"""Pure Block Kit builders: data in, the dicts the Web API takes out. No I/O here."""
