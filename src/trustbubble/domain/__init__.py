"""Pure types and rules: no web framework, no database."""
