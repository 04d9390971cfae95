"""An example anchore plugin package."""
