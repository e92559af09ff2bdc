"""Source root of the VibeDigest persistence foundation."""
