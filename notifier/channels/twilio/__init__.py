"""Twilio: SMS and voice calls through its REST API, its errors and its statuses."""
