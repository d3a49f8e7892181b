test no/such/folder
