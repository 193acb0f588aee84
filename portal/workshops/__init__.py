"""Workshops: plan live workshops online, in person or hybrid, and follow their registrations."""
