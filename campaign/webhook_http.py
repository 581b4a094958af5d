"""The delivery engine's HTTP transport for webhooks: signed POSTs to addresses checked at delivery (see webhooks)."""
