"""Use cases: each takes the acting user, asks the access policy, calls the store."""
