"""Stats API samples: viewer counts, followers, token balance and satisfaction, every 5 minutes."""
