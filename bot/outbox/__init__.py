"""Everything leaving the system: events written with the change they report, the relay, delivery."""
