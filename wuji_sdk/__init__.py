"""Wuji Cloud (武极云) API client: request signing, the client and the `wuji-cli` command."""
