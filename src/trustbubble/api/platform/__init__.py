"""The platform's JSON API: the twin of every web page, at /api/v1/ plus the page's path."""
