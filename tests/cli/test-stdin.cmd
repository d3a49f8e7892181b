test -
