"""Administration: organization overview and platform moderation."""
