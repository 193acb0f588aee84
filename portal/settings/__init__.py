"""Settings: your public profile, notifications, payouts and time zone."""
