"""Looking one order up: `search` finds it by whatever is at hand, `orders` builds its `OrderDetail`
(`detail`): the three systems side by side, its category, discrepancies and checks at an as-of."""
