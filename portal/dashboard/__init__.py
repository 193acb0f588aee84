"""The instructor's home: figures, recent activity and a 30-day trend."""
