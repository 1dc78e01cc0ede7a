"""TAXII 2.1 (OASIS, 2021): one module per section of the specification."""
