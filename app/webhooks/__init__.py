"""Signed webhooks: an administrator subscribes a URL to events; each event is written to an outbox in the
transaction that caused it and delivered by the scheduler, signed with the subscription's secret."""
