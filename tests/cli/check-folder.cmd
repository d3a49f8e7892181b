check policies
