"""Shopify, GraphQL Admin API `2026-10`: `client` (calls), `queries` and `mutations` (their
text), `graphql` and `parse` (reading GraphQL nodes and REST `Order` JSON into records), `bulk` (bulk
operations), `webhooks` (subscriptions)."""
