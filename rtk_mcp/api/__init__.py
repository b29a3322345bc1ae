"""The RealtimeKit HTTP client: one retry loop, the rate limit, and the error tree."""
