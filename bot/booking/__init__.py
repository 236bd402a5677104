"""Booking a Return Home Interview: workers' hours and open times, offering and taking them, changes, reminders."""
