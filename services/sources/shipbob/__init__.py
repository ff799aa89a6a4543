"""ShipBob, API `2026-07`: `client` (calls), `replies` (reading its answers to calls that write),
`parse` (orders and inventory into records), `webhooks` (subscriptions)."""
