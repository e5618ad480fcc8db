"""Investigation: attribution with stated confidence, and campaigns across incidents."""
