"""Enrolling: free and paid enrollments, checkout through a payment provider, the
payment webhook, and the instructor's approval queue."""
