eval --policy - -
