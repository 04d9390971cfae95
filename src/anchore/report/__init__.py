"""HTML and SARIF reports."""
