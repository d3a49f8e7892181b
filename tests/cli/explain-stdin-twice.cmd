explain --policy -
