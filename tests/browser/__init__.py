"""Browser tests: the site served on a real port, driven through Chromium."""
