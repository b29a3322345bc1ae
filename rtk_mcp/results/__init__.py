"""From an API answer to what an agent reads: trimming, the token cap, masking, meeting content and output schemas."""
