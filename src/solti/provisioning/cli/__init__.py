"""The operator CLI verbs (`solti template|vm|audit|check`), one module per noun."""
