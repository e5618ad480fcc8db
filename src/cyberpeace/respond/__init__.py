"""Response under the mandate: mitigations, their safeguards and the enforcers applying them."""
