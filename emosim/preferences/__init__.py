"""Human preference ranking: candidate replies, review tasks, aggregation, preference data."""
