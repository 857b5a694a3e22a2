"""Bridges from the platforms' push APIs (VK Callback API, Telegram and Max webhooks) to contract v1."""
