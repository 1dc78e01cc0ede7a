"""HTTP edge: FastAPI routers for TAXII 2.1 and the platform's JSON API."""
