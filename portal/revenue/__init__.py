"""Revenue: your sales, refunds, fees and payouts, by period and by course."""
