"""EasyPost `/v2`: `client` (tracker pages and webhooks), `parse` (trackers into records)."""
