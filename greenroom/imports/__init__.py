"""Token-history imports: the account's CSV of token transactions, kept as labelled income that the
Events API cannot see (private shows, spy shows, fan-club payments)."""
