"""The API (/api/v1): OSDI over HAL+JSON, authenticated by API key (see api_keys)."""
