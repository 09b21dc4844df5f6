"""fallback."""
