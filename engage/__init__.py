"""engage."""
