"""API keys: an organiser's keys to the API, limited to campaigns and permissions (see api)."""
