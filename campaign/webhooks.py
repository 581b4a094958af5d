"""Webhooks: a campaign's events POSTed to its organisers' endpoints through the delivery engine (see outbox)."""
