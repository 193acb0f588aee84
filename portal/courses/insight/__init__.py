"""A course's figures and charts for its teachers."""
